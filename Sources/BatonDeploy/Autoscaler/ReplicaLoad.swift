// One replica's load as the router last scraped it, what the autoscaler scales on.

/// One replica's load as the router last scraped it. The pool's `target_metric` picks which
/// field the autoscaler scales on; `inFlight` also picks the replica to drain first.
public struct ReplicaLoad: Sendable, Equatable {
    /// Requests in flight at the replica (the router's count).
    public var inFlight: Int
    /// Prompt tokens waiting to be prefilled (the engine's `/metrics`).
    public var queuedPromptTokens: Int
    /// Fraction (0…1) of the replica's KV blocks in use (the engine's `/metrics`).
    public var kvCacheUsage: Double

    public init(inFlight: Int, queuedPromptTokens: Int = 0, kvCacheUsage: Double = 0) {
        self.inFlight = inFlight
        self.queuedPromptTokens = queuedPromptTokens
        self.kvCacheUsage = kvCacheUsage
    }

    func value(of metric: TargetMetric) -> Double {
        switch metric {
        case .ongoingRequests: Double(inFlight)
        case .queuedPromptTokens: Double(queuedPromptTokens)
        case .kvCacheUsage: kvCacheUsage
        }
    }
}
