// Where the router's tokenizer comes from (RouterConfig.tokenizer).

/// Where prompt token ids come from.
public enum TokenizerSource: Sendable, Equatable {
    /// A GGUF file's tokenizer and chat template, loaded into the router.
    case gguf(path: String)
    /// The engines' `/tokenize` (one round trip per request), for models Baton cannot load.
    case remote
}
