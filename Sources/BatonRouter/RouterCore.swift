// The router's shared state: the routing state under a lock, the upstream client, the
// tokenizer, metrics. Handlers and the health service go through it; it carries out the pool's
// actions (logs, gauges).

import BatonOpenAI
import Foundation
import Logging
import Synchronization

public final class RouterCore: Sendable {
    public let config: RouterConfig
    let state: Mutex<RoutingState>
    let upstream: Upstream
    let tokenizer: any PromptTokenizer
    let metrics: RouterMetrics
    let logger: Logger
    /// The app's own status for `/admin/app` (JSON), set by whoever runs the router (`baton serve`).
    let appStatus = Mutex<(@Sendable () -> Data)?>(nil)
    /// Member indices for the health service to watch: those at start, then each added one.
    let newMembers: AsyncStream<Int>
    private let announce: AsyncStream<Int>.Continuation

    public init(config: RouterConfig, upstream: Upstream, tokenizer: any PromptTokenizer, metrics: RouterMetrics, logger: Logger) {
        self.config = config
        state = Mutex(RoutingState(config: config))
        self.upstream = upstream
        self.tokenizer = tokenizer
        self.metrics = metrics
        self.logger = logger
        (newMembers, announce) = AsyncStream.makeStream(of: Int.self)
        let members = state.withLock { $0.pool.members }
        for (i, m) in members.enumerated() {
            metrics.endpoint(i, m)
            announce.yield(i)
        }
    }

    func endpoint(_ i: Int) -> Endpoint { state.withLock { $0.pool.members[i].endpoint } }
    func group(_ i: Int) -> Int? { state.withLock { $0.pool.members[i].group } }

    /// A snapshot of both pools, for `/admin/pools` and tests.
    public func members() -> [(member: EndpointPool.Member, indexedBlocks: Int)] {
        state.withLock { s in s.pool.members.indices.map { (s.pool.members[$0], s.indexes[$0].count) } }
    }

    func ended(_ i: Int, _ outcome: EndpointPool.Outcome, fallback: Bool = false) {
        let (actions, member) = state.withLock { s in
            (s.requestEnded(i, outcome: outcome, fallback: fallback, now: .now), s.pool.members[i])
        }
        metrics.endpoint(i, member)
        carryOut(actions)
    }

    /// A local fallback on `i` sent its first byte (see `EndpointPool.fallbackPrefilled`).
    func fallbackPrefilled(_ i: Int) {
        state.withLock { $0.fallbackPrefilled(i) }
    }

    func started(_ indices: [Int]) {
        let members = state.withLock { s in indices.map { s.pool.members[$0] } }
        for (i, m) in zip(indices, members) { metrics.endpoint(i, m) }
    }

    func carryOut(_ actions: [EndpointPool.Action]) {
        for action in actions {
            switch action {
            case .ejected(let i, let reason):
                let m = state.withLock { $0.pool.members[i] }
                logger.warning("endpoint ejected", metadata: ["endpoint": "\(m.endpoint)", "role": "\(m.role)", "reason": "\(reason)"])
                metrics.endpoint(i, m)
            case .restored(let i):
                let m = state.withLock { $0.pool.members[i] }
                logger.info("endpoint restored", metadata: ["endpoint": "\(m.endpoint)", "role": "\(m.role)"])
                metrics.endpoint(i, m)
            }
        }
    }

    /// Stops sending new requests to `url` (the app does this before stopping a replica).
    public func drain(_ url: String) {
        for i in indices(of: url) { state.withLock { $0.drain(i) } }
    }

    /// Takes `url` into `role`'s pool (a replica the app started), or brings it back if it was
    /// removed or draining. It takes traffic after its first health check, or at once if the
    /// caller has just seen its `/health` answer 200 (`healthy`). False if `url` is not
    /// `http://host:port`. `group`: its xPyD group in replica mode; `maxInFlight`: its own limit
    /// of requests in flight (its pool's `max_ongoing_requests`) instead of the router's.
    @discardableResult
    public func add(_ url: String, role: EndpointRole, healthy: Bool = false, group: Int? = nil, maxInFlight: Int? = nil) -> Bool {
        guard let endpoint = Endpoint.parse(url) else { return false }
        let (i, isNew, member) = state.withLock { s in
            let (i, isNew) = s.add(endpoint, role: role, healthy: healthy, group: group, maxInFlight: maxInFlight)
            return (i, isNew, s.pool.members[i])
        }
        logger.info("endpoint added", metadata: ["endpoint": "\(endpoint)", "role": "\(role)"])
        metrics.endpoint(i, member)
        if isNew { announce.yield(i) }
        return true
    }

    /// `url`'s replica is gone (stopped, crashed): no new requests, no checks, not listed.
    public func remove(_ url: String) {
        for i in indices(of: url) {
            let member = state.withLock { s in
                s.remove(i)
                return s.pool.members[i]
            }
            logger.info("endpoint removed", metadata: ["endpoint": "\(member.endpoint)", "role": "\(member.role)"])
            metrics.endpoint(i, member)
        }
    }

    /// Requests so far that wanted a split while no prefill was up.
    public func splitsWithoutPrefill() -> Int { state.withLock { $0.splitsWithoutPrefill } }

    /// What `/admin/app` answers (JSON); until set it answers 404.
    public func setAppStatus(_ provider: @escaping @Sendable () -> Data) {
        appStatus.withLock { $0 = provider }
    }

    private func indices(of url: String) -> [Int] {
        guard let endpoint = Endpoint.parse(url) else { return [] }
        return state.withLock { s in s.pool.members.indices.filter { s.pool.members[$0].endpoint == endpoint } }
    }
}
