// What a pool's engines do: prefill, decode, or both.

/// What a pool's engines do.
public enum PoolRole: String, Sendable, Equatable {
    case prefill, decode
    /// Collocated engines (a `build_openai_app` pool): prefill and decode in one.
    case both
}
