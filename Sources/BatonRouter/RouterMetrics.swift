// The router's metrics (swift-metrics, exported by Prometheus on `/metrics`):
//
//   baton_router_requests_total{path="split|local|none",code}
//   baton_router_decisions_total{path,reason}     why each request took its path
//   baton_router_retries_total{role}              another prefill/decode tried
//   baton_router_fallbacks_total{reason}          split wanted, local taken
//   baton_router_prefix_hit_ratio                 prompt blocks the chosen decode probably held
//   baton_router_ttft_seconds{path}               request in → first byte to the client
//   baton_router_overhead_seconds                 of that, the time not spent waiting on engines
//   baton_router_endpoint_in_flight{endpoint,role}
//   baton_router_endpoint_healthy{endpoint,role}  1 healthy, 0 otherwise
//   baton_router_fast_lane_total                  local-path requests the fast lane sent upstream

import Metrics
import Synchronization

public final class RouterMetrics: Sendable {
    let factory: any MetricsFactory
    let ttft: [String: Recorder]
    let overhead: Recorder
    let prefixHitRatio: Gauge
    let retries: [EndpointRole: Counter]
    let fallbacks: [DecisionReason: Counter]
    let fastLane: Counter
    private let prefixBlocks = Mutex<(hit: Int, total: Int)>((0, 0))
    /// Handles made on first use, so a request costs a dictionary lookup, not a registry one.
    private let requests = Mutex<[RequestKey: Counter]>([:])
    private let decisions = Mutex<[DecisionKey: Counter]>([:])
    /// By member index (stable: an index never names another endpoint), so a lookup hashes nothing.
    private let endpoints = Mutex<[(inFlight: Gauge, healthy: Gauge)?]>([])

    struct RequestKey: Hashable { var path: String, code: Int }
    struct DecisionKey: Hashable { var path: String, reason: DecisionReason }

    /// Buckets for the histograms: the overhead is sub-millisecond, TTFT up to a minute.
    public static let histogramBuckets: [String: [Double]] = [
        "baton_router_overhead_seconds": [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
        "baton_router_ttft_seconds": [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80],
    ]

    public init(factory: any MetricsFactory) {
        self.factory = factory
        ttft = Dictionary(uniqueKeysWithValues: ["split", "local"].map {
            ($0, Recorder(label: "baton_router_ttft_seconds", dimensions: [("path", $0)], factory: factory))
        })
        overhead = Recorder(label: "baton_router_overhead_seconds", factory: factory)
        prefixHitRatio = Gauge(label: "baton_router_prefix_hit_ratio", factory: factory)
        fastLane = Counter(label: "baton_router_fast_lane_total", factory: factory)
        retries = Dictionary(uniqueKeysWithValues: EndpointRole.allCases.map {
            ($0, Counter(label: "baton_router_retries_total", dimensions: [("role", $0.rawValue)], factory: factory))
        })
        fallbacks = Dictionary(uniqueKeysWithValues: [DecisionReason.noPrefillHealthy, .prefillFailed].map {
            ($0, Counter(label: "baton_router_fallbacks_total", dimensions: [("reason", $0.rawValue)], factory: factory))
        })
    }

    public convenience init() { self.init(factory: NOOPMetricsHandler.instance) }

    // The handles are made with `self.factory` inside the miss branch: a copy of the factory
    // taken before the lock was made on every call (it showed in router profiles).
    func request(path: String, code: Int) {
        requests.withLock { cache in
            let key = RequestKey(path: path, code: code)
            if let c = cache[key] { return c }
            let c = Counter(label: "baton_router_requests_total", dimensions: [("path", path), ("code", String(code))], factory: self.factory)
            cache[key] = c
            return c
        }.increment()
    }

    func decision(path: String, reason: DecisionReason) {
        decisions.withLock { cache in
            let key = DecisionKey(path: path, reason: reason)
            if let c = cache[key] { return c }
            let c = Counter(label: "baton_router_decisions_total", dimensions: [("path", path), ("reason", reason.rawValue)], factory: self.factory)
            cache[key] = c
            return c
        }.increment()
    }

    func retry(role: EndpointRole) { retries[role]?.increment() }

    func fallback(reason: DecisionReason) { fallbacks[reason]?.increment() }

    func prefix(hit: Int, of total: Int) {
        guard total > 0 else { return }
        let ratio = prefixBlocks.withLock {
            $0.hit += hit
            $0.total += total
            return Double($0.hit) / Double($0.total)
        }
        prefixHitRatio.record(ratio)
    }

    /// Sets member `i`'s gauges from `m`, its state.
    func endpoint(_ i: Int, _ m: EndpointPool.Member) {
        let gauges = endpoints.withLock { cache in
            if i < cache.count, let g = cache[i] { return g }
            let dims = [("endpoint", m.endpoint.url), ("role", m.role.rawValue)]
            let g = (Gauge(label: "baton_router_endpoint_in_flight", dimensions: dims, factory: self.factory),
                     Gauge(label: "baton_router_endpoint_healthy", dimensions: dims, factory: self.factory))
            if cache.count <= i { cache.append(contentsOf: repeatElement(nil, count: i + 1 - cache.count)) }
            cache[i] = g
            return g
        }
        gauges.inFlight.record(m.inFlight)
        gauges.healthy.record(m.health == .healthy ? 1 : 0)
    }
}
