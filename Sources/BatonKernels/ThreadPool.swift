// A small persistent thread pool for the kernels: `n - 1` worker threads plus the caller.
//
// A decode step runs a few hundred parallel regions of ~10–50 µs each, so a dispatch must cost
// far less than a condition-variable wake-up. Workers spin on a generation counter while work is
// frequent and park on a condition variable after a short idle spell, so an idle engine does not
// burn its cores.

import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs `body(threadIndex, threadCount)` on every thread of the pool at once and returns when all
/// are done. The caller's thread is thread 0.
public final class ThreadPool: @unchecked Sendable {
    /// Number of threads taking part in a `run`, the caller included.
    public let threadCount: Int

    private let generation = Atomic<Int>(0)
    private let pending = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private var job: ((Int, Int) -> Void)?
    private var workers: [pthread_t] = []
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let cond: UnsafeMutablePointer<pthread_cond_t>
    /// Serialises callers: one parallel region at a time.
    private let callerLock = Mutex<Void>(())

    /// Spins (with `sched_yield`) before a worker parks on the condition variable.
    private static let spinsBeforeSleep = 200_000

    public init(threads: Int) {
        precondition(threads >= 1, "a thread pool needs at least one thread")
        threadCount = threads
        mutex = .allocate(capacity: 1)
        cond = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
        for index in 1..<max(threads, 1) {
            let box = Unmanaged.passRetained(WorkerStart(pool: self, index: index))
            var thread = pthread_t()
            let rc = pthread_create(&thread, nil, { raw in
                let start = Unmanaged<WorkerStart>.fromOpaque(raw!).takeRetainedValue()
                start.pool.workerLoop(index: start.index)
                return nil
            }, box.toOpaque())
            precondition(rc == 0, "pthread_create failed: \(rc)")
            workers.append(thread)
        }
    }

    deinit {
        stopping.store(true, ordering: .sequentiallyConsistent)
        generation.add(1, ordering: .sequentiallyConsistent)
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(cond)
        pthread_mutex_unlock(mutex)
        for thread in workers { pthread_join(thread, nil) }
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        cond.deallocate()
    }

    /// Runs `body` on all threads; `body(t, n)` handles share `t` of `n`.
    public func run(_ body: (_ thread: Int, _ threads: Int) -> Void) {
        if threadCount == 1 {
            body(0, 1)
            return
        }
        callerLock.withLock { _ in
            withoutActuallyEscaping(body) { escaping in
                job = escaping
                pending.store(threadCount - 1, ordering: .sequentiallyConsistent)
                generation.add(1, ordering: .sequentiallyConsistent)
                if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                    pthread_mutex_lock(mutex)
                    pthread_cond_broadcast(cond)
                    pthread_mutex_unlock(mutex)
                }
                escaping(0, threadCount)
                var spins = 0
                while pending.load(ordering: .acquiring) > 0 {
                    spins += 1
                    if spins > 10_000 { sched_yield() }
                }
                job = nil
            }
        }
    }

    /// Splits `0..<count` into `threads` contiguous ranges of multiples of `grain`.
    @inlinable
    public static func range(of count: Int, part: Int, parts: Int, grain: Int = 1) -> Range<Int> {
        let units = (count + grain - 1) / grain
        let lo = units * part / parts * grain
        let hi = units * (part + 1) / parts * grain
        return min(lo, count)..<min(hi, count)
    }

    private func workerLoop(index: Int) {
        var seen = 0
        while true {
            var spins = 0
            var current = generation.load(ordering: .acquiring)
            while current == seen {
                spins += 1
                if spins > Self.spinsBeforeSleep {
                    pthread_mutex_lock(mutex)
                    sleepers.add(1, ordering: .sequentiallyConsistent)
                    while generation.load(ordering: .sequentiallyConsistent) == seen {
                        pthread_cond_wait(cond, mutex)
                    }
                    sleepers.subtract(1, ordering: .sequentiallyConsistent)
                    pthread_mutex_unlock(mutex)
                    spins = 0
                } else if spins > 2_000 {
                    sched_yield()
                }
                current = generation.load(ordering: .acquiring)
            }
            seen = current
            if stopping.load(ordering: .acquiring) { return }
            job?(index, threadCount)
            pending.subtract(1, ordering: .releasing)
        }
    }
}

private final class WorkerStart {
    unowned(unsafe) let pool: ThreadPool
    let index: Int
    init(pool: ThreadPool, index: Int) {
        self.pool = pool
        self.index = index
    }
}
