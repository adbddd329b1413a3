// What the autoscaler asks the supervisor to do.

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
