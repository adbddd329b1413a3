// What the autoscaler asks the supervisor to do, what it measured, and the record of its
// decisions that `baton status` shows.

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

/// An action for the supervisor. The autoscaler never starts or stops anything itself.
public enum AutoscalerAction: Sendable, Equatable {
    /// Start this many replicas; report each with `replicaAdded` once it is healthy and routed.
    case start(count: Int)
    /// Stop routing new requests to this replica and let its running ones finish; report
    /// `drained` when it has none left.
    case drain(replica: String)
    /// The replica has drained: stop its process.
    case stop(replica: String)
}

/// One applied scaling decision, kept for `baton status`.
public struct AutoscalerDecision: Sendable, Equatable {
    /// When it was applied (the caller's clock).
    public var at: Duration
    public var from: Int
    public var to: Int
    /// The look-back average of the pool's total metric that led to it.
    public var averageMetric: Double

    public init(at: Duration, from: Int, to: Int, averageMetric: Double) {
        self.at = at
        self.from = from
        self.to = to
        self.averageMetric = averageMetric
    }
}
