// A sampled token's log-probability and its alternatives, as vLLM reports them.

/// A sampled token with its log-probability and the most likely alternatives, computed from
/// the model's raw logits (before penalties and temperature), as vLLM reports them.
public struct TokenLogprob: Sendable, Equatable {
    public var token: Int32
    public var logprob: Float
    /// The `top_logprobs` most likely tokens, best first.
    public var top: [TopLogprob]
}
