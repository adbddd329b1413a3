// Why a request stopped generating: one vocabulary for `baton generate` and the serving engine.

/// Why a request stopped, in OpenAI's words where they exist.
public enum FinishReason: String, Sendable, Equatable, Hashable, CaseIterable {
    /// EOS, a stop token or a stop string.
    case stop
    /// max_tokens or the context length.
    case length
    /// Aborted by the client (disconnect) or by shutdown (the serving engine only).
    case abort
}
