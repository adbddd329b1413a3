// How prefill and decode replicas pair up in a PD app (AIBrix's two modes).

/// How prefill and decode replicas pair up (AIBrix's two modes).
public enum PDMode: Sendable, Equatable {
    /// Any prefill with any decode (default).
    case pooled
    /// xPyD units: a request's prefill and decode come from the same group, and scaling adds or
    /// removes whole groups (counted by `decode_config`'s replicas).
    case replica(prefill: Int, decode: Int)
}
