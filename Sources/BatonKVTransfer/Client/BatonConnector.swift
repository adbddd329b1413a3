// The consumer's `KVConnector`: pulls a remote prefill's blocks straight into the engine's KV
// memory, says DONE so the producer frees them at once, and keeps the producer's lease alive
// with heartbeats while a request waits or pulls. It runs as a Service: pulls, heartbeats and
// connection readers are tasks of its task group; the engine only hands it work.

import BatonEngine
import BatonModel
import BatonOpenAI
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

public final class BatonConnector: KVConnector, Service {
    let engine: LLMEngine
    let config: KVTransferConfig
    let compatibility: KVCompatibility
    let logger: Logger
    /// Longest a pull may take before it counts as failed.
    let pullTimeout: Double
    private let jobs: AsyncStream<Job>
    private let submit: AsyncStream<Job>.Continuation
    private let waiting = Mutex<[String: RemotePrefill]>([:])
    private let pool: KVPeerPool

    enum Job: Sendable {
        case load(KVLoad)
        case done(RemotePrefill)
        case heartbeat(RemotePrefill)
        case run(@Sendable () async -> Void)
    }

    public init(engine: LLMEngine, config: KVTransferConfig, compatibility: KVCompatibility, logger: Logger, pullTimeout: Double = 30) {
        self.engine = engine
        self.config = config
        self.compatibility = compatibility
        self.logger = logger
        self.pullTimeout = pullTimeout
        let (jobs, submit) = AsyncStream<Job>.makeStream(of: Job.self)
        self.jobs = jobs
        self.submit = submit
        pool = KVPeerPool(config: config, compatibility: compatibility, logger: logger) { work in
            if case .terminated = submit.yield(.run(work)) { return false }
            return true
        }
    }

    // MARK: KVConnector (called by the engine; returns at once)

    public func requestAdded(_ requestId: String, remote: RemotePrefill) {
        waiting.withLock { $0[requestId] = remote }
    }

    public func startLoad(_ load: KVLoad) { submit.yield(.load(load)) }

    public func requestEnded(_ requestId: String) {
        // Still waiting (not pulled yet): the producer can free the blocks now.
        if let remote = waiting.withLock({ $0.removeValue(forKey: requestId) }) { submit.yield(.done(remote)) }
    }

    // MARK: Service

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.heartbeats() }
                for await job in self.jobs {
                    group.addTask { await self.perform(job) }
                }
            }
        }
    }

    private func heartbeats() async {
        let period = Duration.milliseconds(Int(config.heartbeatSeconds * 1000))
        while !Task.isCancelled {
            try? await Task.sleep(for: period)
            for remote in waiting.withLock({ Array($0.values) }) { submit.yield(.heartbeat(remote)) }
        }
        submit.finish()  // ends the job loop; later work is refused (see KVPeerPool.open)
    }

    private func perform(_ job: Job) async {
        switch job {
        case .load(let load): await pull(load)
        case .done(let remote): try? await call(remote) { .done(seq: $0, requestId: remote.requestId) }
        case .heartbeat(let remote): try? await call(remote) { .heartbeat(seq: $0, requestId: remote.requestId) }
        case .run(let work): await work()
        }
    }

    /// One control request answered by OK (or ERROR), within the heartbeat period.
    private func call(_ remote: RemotePrefill, _ make: @escaping (UInt32) -> KVFrame) async throws {
        let c = try await pool.connection(to: remote)
        try await withTimeout(seconds: max(1, config.heartbeatSeconds), connection: c) { done in
            try await c.send(make) { reply in
                switch reply {
                case .frame(.ok): done(.success(()))
                case .frame(.error(_, let reason)): done(.failure(KVTransferError.remote(reason)))
                case .frame(let other): done(.failure(KVTransferError.protocolViolation("unexpected \(other.kind)")))
                case .chunk: done(.failure(KVTransferError.protocolViolation("unexpected DATA")))
                case .failure(let e): done(.failure(e))
                }
                return true
            }
        }
    }

    // MARK: Pulls

    private func pull(_ load: KVLoad) async {
        let start = monotonicSeconds()
        var failure: KVLoadFailure?
        do {
            let c = try await pool.connection(to: load.remote)
            try await read(load, over: c)
            engine.metrics.kvTransferBlocks.increment(by: load.localBlocks.count)
            engine.metrics.kvTransferBytes.increment(by: 2 * engine.cache.layerCount * load.localBlocks.count * engine.cache.blockBytes)
            engine.metrics.kvTransferSeconds.record(monotonicSeconds() - start)
        } catch {
            failure = KVLoadFailure(error)
            engine.metrics.kvTransferFailures.increment()
            logger.warning("KV transfer: pull of \(load.requestId) from \(load.remote.host):\(load.remote.port) failed: \(error)")
        }
        waiting.withLock { _ = $0.removeValue(forKey: load.requestId) }
        engine.finishedLoading(load.requestId, failure: failure)
        // The producer may free the blocks now, whatever happened (best effort: its lease
        // frees them otherwise).
        try? await call(load.remote) { .done(seq: $0, requestId: load.remote.requestId) }
    }

    /// READ the blocks and write each piece of each layer's DATA into the local blocks as it
    /// arrives. A layer's payload is the K of every block, then the V of every block.
    private func read(_ load: KVLoad, over c: KVClientConnection) async throws {
        let cache = engine.cache
        let blockBytes = cache.blockBytes
        let local = load.localBlocks
        let layerBytes = 2 * local.count * blockBytes
        let layers = cache.layerCount
        let nextLayer = Mutex(0)
        try await withTimeout(seconds: pullTimeout, connection: c) { done in
            try await c.send({ .read(seq: $0, requestId: load.remote.requestId, blockIds: load.remoteBlocks.map { UInt32($0) }) }) { reply in
                switch reply {
                case .chunk(_, let layer, let offset, let total, let bytes):
                    let expected = nextLayer.withLock { $0 }
                    guard Int(layer) == expected, expected < layers, total == layerBytes else {
                        done(.failure(KVTransferError.protocolViolation(
                            "DATA for layer \(layer) with \(total) bytes; expected layer \(expected) with \(layerBytes)")))
                        return true
                    }
                    bytes.withUnsafeReadableBytes { src in
                        var done = 0
                        while done < src.count {
                            let at = offset + done
                            let region = at / blockBytes, within = at % blockBytes
                            let n = min(src.count - done, blockBytes - within)
                            let dst = cache.block(layer: expected, kv: region / local.count, block: local[region % local.count])
                            UnsafeMutableRawBufferPointer(rebasing: dst[within..<(within + n)])
                                .copyMemory(from: UnsafeRawBufferPointer(rebasing: src[done..<(done + n)]))
                            done += n
                        }
                    }
                    if offset + bytes.readableBytes == total { nextLayer.withLock { $0 += 1 } }
                    return false
                case .frame(.end):
                    let received = nextLayer.withLock { $0 }
                    done(received == layers
                        ? .success(()) : .failure(KVTransferError.protocolViolation("END after \(received) of \(layers) layers")))
                    return true
                case .frame(.error(_, let reason)):
                    done(.failure(KVTransferError.remote(reason)))
                    return true
                case .frame(let other):
                    done(.failure(KVTransferError.protocolViolation("unexpected \(other.kind) during a READ")))
                    return true
                case .failure(let e):
                    done(.failure(e))
                    return true
                }
            }
        }
    }

    /// Sends a request through `start` and waits for its handler to call `done`, at most
    /// `seconds`; on timeout the request's handler is dropped.
    private func withTimeout(
        seconds: Double, connection c: KVClientConnection,
        _ start: (@escaping @Sendable (Result<Void, Error>) -> Void) async throws -> UInt32
    ) async throws {
        let outcome = Mutex<(CheckedContinuation<Void, Error>?, Result<Void, Error>?)>((nil, nil))
        let finish: @Sendable (Result<Void, Error>) -> Void = { result in
            let waiter = outcome.withLock { o -> CheckedContinuation<Void, Error>? in
                if o.1 != nil { return nil }
                o.1 = result
                defer { o.0 = nil }
                return o.0
            }
            waiter?.resume(with: result)
        }
        let seq = try await start(finish)
        let timer = Task {
            try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            finish(.failure(KVTransferError.timedOut(seconds)))
        }
        defer {
            timer.cancel()
            c.cancel(seq)
        }
        try await withCheckedThrowingContinuation { (k: CheckedContinuation<Void, Error>) in
            let ready = outcome.withLock { o -> Result<Void, Error>? in
                if let r = o.1 { return r }
                o.0 = k
                return nil
            }
            if let ready { k.resume(with: ready) }
        }
    }
}
