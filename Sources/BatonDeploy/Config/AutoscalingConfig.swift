// Ray Serve's `deployment_config.autoscaling_config`, with Ray Serve's defaults.

/// `deployment_config.autoscaling_config`, with Ray Serve's defaults.
public struct AutoscalingConfig: Sendable, Equatable {
    public var minReplicas: Int = 1
    public var maxReplicas: Int = 1
    /// Replicas at start; Ray's default: `min_replicas`.
    public var initialReplicas: Int?
    /// The metric the pool scales on (Baton's addition; Ray scales on ongoing requests only).
    public var targetMetric: TargetMetric = .ongoingRequests
    /// Per-replica target of `targetMetric`: `target_ongoing_requests` (Ray default 2) for
    /// ongoing requests, `target_value` for the others.
    public var target: Double = 2
    /// How long a decision to add replicas must hold before it is applied.
    public var upscaleDelay: Duration = .seconds(30)
    /// How long a decision to remove replicas must hold before it is applied.
    public var downscaleDelay: Duration = .seconds(600)
    /// Scales each upward step (Ray: `current + factor × (raw − current)`).
    public var upscalingFactor: Double = 1
    public var downscalingFactor: Double = 1
    /// The window the metric is averaged over.
    public var lookBackPeriod: Duration = .seconds(30)

    public init() {}

    /// Replicas started first.
    public var startReplicas: Int { initialReplicas ?? minReplicas }
}
