// The app's engines as child processes of this binary, kept running (docs/serve.md):
//
//   start ─▶ wait for /health ─▶ router.add ─▶ … exits ─▶ router.remove ─▶ backoff ─▶ start
//                                                 │
//   graceful shutdown (after the router's server has stopped and its streams finished):
//     every replica drained in the router, SIGTERM, SIGKILL past graceful_shutdown_timeout_s
//
// A Service: it runs until the group shuts down gracefully. Each replica has its own task; new
// replicas (scale-up) arrive on a stream the same way.

import AsyncHTTPClient
import BatonRouter
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

public final class Supervisor: Service, Sendable {
    public struct Settings: Sendable {
        /// This binary (the engines are `executable engine …`).
        public var executable: String
        public var context: ReplicaContext
        /// Cores the engines are pinned to, dealt out per replica.
        public var cpus: [Int]
        /// How long an engine may take from start to a healthy `/health`.
        public var startupTimeout: Duration = .seconds(300)
        /// How often autoscaled pools are sampled and decided.
        public var autoscaleInterval: Duration = .seconds(1)

        public init(executable: String, context: ReplicaContext, cpus: [Int]) {
            self.executable = executable
            self.context = context
            self.cpus = cpus
        }
    }

    /// One replica as `baton status` and the logs see it.
    public struct ReplicaState: Sendable, Equatable {
        public enum Phase: String, Sendable, Equatable { case starting, ready, restarting, draining, stopping, stopped }
        public var spec: ReplicaSpec
        public var phase: Phase
        public var pid: Int32?
        public var restarts = 0
        public var lastExit: Int32?
    }

    let app: Application
    let router: RouterCore
    let settings: Settings
    let logger: Logger
    let state = Mutex<State>(State())
    private let launches: AsyncStream<ReplicaSpec>
    let launch: AsyncStream<ReplicaSpec>.Continuation
    let started = ContinuousClock.now
    /// Set once every replica started first has been healthy once.
    private let allReady = ExitStatus()

    struct State {
        var replicas: [String: ReplicaState] = [:]
        var children: [String: ChildProcess] = [:]
        var stopping = false
        var nextIndex: [PoolRole: Int] = [:]
        var waitingFirst: Set<String> = []
        /// Autoscaled pools' deciders (fixed pools have none).
        var autoscalers: [PoolRole: PoolAutoscaler] = [:]
        /// Replicas scaled down: stopped for good, not restarted.
        var retired: Set<String> = []
        /// Cores are dealt to replicas in turn; the next one's turn.
        var cpuTurn = 0
        /// RouterCore.splitsWithoutPrefill at the last sample.
        var lastSplitsWithoutPrefill = 0
        /// Replica mode: the next group's number.
        var nextGroup = 0
    }

    public init(app: Application, router: RouterCore, settings: Settings, logger: Logger) throws {
        self.app = app
        self.router = router
        self.settings = settings
        self.logger = logger
        (launches, launch) = AsyncStream.makeStream(of: ReplicaSpec.self)
        // Pooled: each pool's starting replicas. Replica mode: whole xPyD groups, as many as
        // decode_config's replica count, each of x prefills and y decodes.
        var plan: [(PoolConfig, Int?)] = []
        if case .replica(let x, let y) = app.pdMode, let p = app.pool(.prefill), let d = app.pool(.decode) {
            for g in 0..<d.llm.scaling.startReplicas {
                plan += Array(repeating: (p, g), count: x) + Array(repeating: (d, g), count: y)
            }
        } else {
            for pool in app.pools { plan += Array(repeating: (pool, nil), count: pool.llm.scaling.startReplicas) }
        }
        let first = plan.count
        state.withLock { $0.nextGroup = app.pool(.decode)?.llm.scaling.startReplicas ?? 0 }
        let cores = cpuAssignment(replicas: first, available: settings.cpus)
        for (k, (pool, group)) in plan.enumerated() {
            var spec = try makeSpec(pool, cpus: cores[k])
            spec.group = group
            _ = state.withLock { $0.waitingFirst.insert(spec.name) }
            launch.yield(spec)
        }
        state.withLock { s in
            s.cpuTurn = first
            // Replica mode: one autoscaler, decode_config's, whose replicas are whole groups.
            let scaled = if case .replica = app.pdMode { app.pools.filter { $0.role == .decode } } else { app.pools }
            for pool in scaled {
                guard var autoscaler = PoolAutoscaler(scaling: pool.llm.scaling) else { continue }
                _ = autoscaler.start()  // its initial replicas are the ones launched above
                s.autoscalers[pool.role] = autoscaler
            }
        }
        if first == 0 { allReady.set(0) }
        router.setAppStatus { [weak self] in self?.status().json() ?? Data("{}".utf8) }
    }

    /// The next replica of `pool`, on fresh ports.
    func makeSpec(_ pool: PoolConfig, cpus: [Int]) throws -> ReplicaSpec {
        let index = state.withLock { s in
            defer { s.nextIndex[pool.role, default: 0] += 1 }
            return s.nextIndex[pool.role, default: 0]
        }
        let port = try freePort()
        let kvPort = try freePort()
        return pool.replica(index, app: app, context: settings.context, port: port, kvPort: kvPort, cpus: cpus)
    }

    /// Returns once each replica started first has been healthy (and routed) once.
    public func ready() async { _ = await allReady.value() }

    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await gracefulShutdown()  // or cancelled: then the children are killed at once
                await self.stopAll()
                self.launch.finish()
            }
            group.addTask { await self.autoscale() }
            for await spec in launches {
                group.addTask { await self.keep(spec) }
            }
            group.cancelAll()  // wakes replicas waiting out a restart backoff
        }
    }

    /// Starts `spec` and keeps it running until the app stops.
    func keep(_ spec: ReplicaSpec) async {
        var backoff = RestartBackoff()
        let role: EndpointRole = spec.role == .prefill ? .prefill : .decode
        while true {
            let child: ChildProcess?
            do {
                child = try state.withLock { s -> ChildProcess? in
                    guard !s.stopping else { return nil }
                    let child = try ChildProcess(
                        name: spec.name, executable: settings.executable, arguments: spec.arguments, environment: spec.environment)
                    s.children[spec.name] = child
                    s.replicas[spec.name, default: ReplicaState(spec: spec, phase: .starting)].phase = .starting
                    s.replicas[spec.name]?.pid = child.pid
                    return child
                }
            } catch {
                logger.error("\(spec.name) could not start: \(error)")
                state.withLock { s in
                    s.replicas[spec.name] = nil
                    if let (role, _) = s.scalingUnit(of: spec, mode: app.pdMode) { s.autoscalers[role]?.replicaRemoved(nil) }
                }
                return
            }
            guard let child else { return }
            let started = ContinuousClock.now
            logger.info("\(spec.name) starting (pid \(child.pid), port \(spec.port)\(spec.cpus.isEmpty ? "" : ", cpus \(spec.cpus.map(String.init).joined(separator: ","))")\(spec.group.map { ", group \($0)" } ?? ""))")
            if await waitHealthy(spec, child) {
                router.add(
                    spec.url, role: role, healthy: true, group: spec.group,
                    maxInFlight: app.pool(spec.role)?.llm.deployment.maxOngoingRequests)
                let first = state.withLock { s in
                    s.replicas[spec.name]?.phase = .ready
                    if let (role, unit) = s.scalingUnit(of: spec, mode: app.pdMode), s.isUnitReady(unit, spec: spec, mode: app.pdMode) {
                        s.autoscalers[role]?.replicaAdded(unit)
                    }
                    return (s.waitingFirst.remove(spec.name) != nil, s.waitingFirst.isEmpty)
                }
                logger.info("\(spec.name) ready at \(spec.url) after \(seconds(ContinuousClock.now - started))")
                if first.0 && first.1 { allReady.set(0) }
            } else if !isStopping {
                logger.error("\(spec.name) not healthy within \(settings.startupTimeout.seconds) s; restarting it")
                await child.stop(grace: .seconds(5))
            }
            let status = await child.exited()
            router.remove(spec.url)
            let ranFor = ContinuousClock.now - started
            let stop = state.withLock { s in
                s.children[spec.name] = nil
                s.replicas[spec.name]?.lastExit = status
                s.replicas[spec.name]?.pid = nil
                if s.retired.contains(spec.name) {
                    s.replicas[spec.name] = nil
                    return true
                }
                if s.stopping { s.replicas[spec.name]?.phase = .stopped } else {
                    s.replicas[spec.name]?.phase = .restarting
                    s.replicas[spec.name]?.restarts += 1
                }
                return s.stopping
            }
            if stop {
                logger.info("\(spec.name) stopped (status \(status))")
                return
            }
            let delay = backoff.exited(after: ranFor)
            logger.warning("\(spec.name) exited (status \(status)) after \(seconds(ranFor)); restarting in \(seconds(delay))")
            if (try? await Task.sleep(for: delay)) == nil { return }
        }
    }

    var isStopping: Bool { state.withLock { $0.stopping } }

    /// Polls `/health` until 200, the child exits, the app stops or the startup timeout passes.
    func waitHealthy(_ spec: ReplicaSpec, _ child: ChildProcess) async -> Bool {
        let deadline = ContinuousClock.now + settings.startupTimeout
        while ContinuousClock.now < deadline, child.isRunning, !isStopping, !Task.isCancelled {
            var request = HTTPClientRequest(url: spec.url + "/health")
            request.method = .GET
            if let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(2)) {
                _ = try? await response.body.collect(upTo: 1 << 16)
                if response.status == .ok { return true }
            }
            if (try? await Task.sleep(for: .milliseconds(100))) == nil { return false }
        }
        return false
    }

    /// Drains every replica in the router and stops its process (SIGTERM, then SIGKILL past
    /// its pool's graceful_shutdown_timeout_s), all at once.
    func stopAll() async {
        let children = state.withLock { s in
            s.stopping = true
            for name in s.children.keys { s.replicas[name]?.phase = .stopping }
            return Array(s.children.values)
        }
        logger.info("stopping \(children.count) engine(s)")
        await withTaskGroup(of: Void.self) { group in
            for child in children {
                guard let spec = state.withLock({ $0.replicas[child.name]?.spec }) else { continue }
                let grace = app.pool(spec.role)?.llm.deployment.gracefulShutdownTimeout ?? .seconds(20)
                router.drain(spec.url)
                group.addTask { await child.stop(grace: grace) }
            }
        }
        logger.info("every engine stopped")
    }
}

func seconds(_ d: Duration) -> String {
    String(format: "%.1f s", d.seconds)
}

/// A TCP port nothing listens on now (bound to port 0 and released).
func freePort() throws -> Int {
    #if canImport(Glibc)
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw SupervisorError("socket() failed: errno \(errno)") }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw SupervisorError("bind() failed: errno \(errno)") }
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
    }
    guard named == 0 else { throw SupervisorError("getsockname() failed: errno \(errno)") }
    return Int(UInt16(bigEndian: addr.sin_port))
    #else
    throw SupervisorError("free ports are found on Linux only")
    #endif
}

struct SupervisorError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
