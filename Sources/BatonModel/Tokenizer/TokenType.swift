// llama.cpp's token types (`tokenizer.ggml.token_type`).

/// llama.cpp's token types (`tokenizer.ggml.token_type`).
public enum TokenType: Int32, Sendable {
    case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
}
