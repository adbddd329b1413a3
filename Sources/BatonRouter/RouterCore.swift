// The router's shared state: the routing state under a lock, the upstream client, the
// tokenizer, metrics. Handlers and the health service go through it; it carries out the pool's
// actions (logs, gauges).

import BatonOpenAI
import Logging
import Synchronization

public final class RouterCore: Sendable {
    public let config: RouterConfig
    let state: Mutex<RoutingState>
    let upstream: Upstream
    let tokenizer: any PromptTokenizer
    let metrics: RouterMetrics
    let logger: Logger

    public init(config: RouterConfig, upstream: Upstream, tokenizer: any PromptTokenizer, metrics: RouterMetrics, logger: Logger) {
        self.config = config
        state = Mutex(RoutingState(config: config))
        self.upstream = upstream
        self.tokenizer = tokenizer
        self.metrics = metrics
        self.logger = logger
        for m in state.withLock({ $0.pool.members }) { metrics.endpoint(m) }
    }

    func endpoint(_ i: Int) -> Endpoint { state.withLock { $0.pool.members[i].endpoint } }

    /// A snapshot of both pools, for `/admin/pools` and tests.
    public func members() -> [(member: EndpointPool.Member, indexedBlocks: Int)] {
        state.withLock { s in s.pool.members.indices.map { (s.pool.members[$0], s.indexes[$0].count) } }
    }

    func ended(_ i: Int, _ outcome: EndpointPool.Outcome, fallback: Bool = false) {
        let (actions, member) = state.withLock { s in
            (s.requestEnded(i, outcome: outcome, fallback: fallback, now: .now), s.pool.members[i])
        }
        metrics.endpoint(member)
        carryOut(actions)
    }

    func started(_ indices: [Int]) {
        let members = state.withLock { s in indices.map { s.pool.members[$0] } }
        for m in members { metrics.endpoint(m) }
    }

    func carryOut(_ actions: [EndpointPool.Action]) {
        for action in actions {
            switch action {
            case .ejected(let i, let reason):
                let m = state.withLock { $0.pool.members[i] }
                logger.warning("endpoint ejected", metadata: ["endpoint": "\(m.endpoint)", "role": "\(m.role)", "reason": "\(reason)"])
                metrics.endpoint(m)
            case .restored(let i):
                let m = state.withLock { $0.pool.members[i] }
                logger.info("endpoint restored", metadata: ["endpoint": "\(m.endpoint)", "role": "\(m.role)"])
                metrics.endpoint(m)
            case .probe:
                break  // the health service probes every endpoint on its interval
            }
        }
    }

    /// Stops sending new requests to `url` (the app does this before stopping a replica).
    public func drain(_ url: String) {
        state.withLock { s in
            for i in s.pool.members.indices where s.pool.members[i].endpoint.url == Endpoint.parse(url)?.url { s.drain(i) }
        }
    }
}
