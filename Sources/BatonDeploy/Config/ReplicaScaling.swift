// How many replicas a pool runs: a fixed number, or autoscaled between bounds.

/// How many replicas a pool runs.
public enum ReplicaScaling: Sendable, Equatable {
    case fixed(Int)
    case autoscaled(AutoscalingConfig)

    /// Replicas started first.
    public var startReplicas: Int {
        switch self {
        case .fixed(let n): n
        case .autoscaled(let a): a.startReplicas
        }
    }
}
