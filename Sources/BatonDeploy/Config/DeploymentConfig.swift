// Ray Serve's `deployment_config`, with Ray Serve's defaults.

/// `deployment_config`, with Ray Serve's defaults.
public struct DeploymentConfig: Sendable, Equatable {
    /// A fixed count; exclusive with `autoscaling`.
    public var numReplicas: Int?
    /// Requests in flight per replica before the router counts it overloaded; nil = the
    /// router's `max_in_flight_per_endpoint`.
    public var maxOngoingRequests: Int?
    public var autoscaling: AutoscalingConfig?
    public var healthCheckPeriod: Duration = .seconds(10)
    public var healthCheckTimeout: Duration = .seconds(30)
    /// Running requests get this long after SIGTERM before the replica is stopped.
    public var gracefulShutdownTimeout: Duration = .seconds(20)

    public init() {}
}
