// vLLM's `/tokenize` request body.

/// vLLM's `/tokenize`: a prompt or chat messages.
public struct TokenizeRequest: Codable, Sendable {
    public var model: String?
    public var prompt: String?
    public var messages: [ChatMessageIn]?
    public var addSpecialTokens: Bool?
    public var addGenerationPrompt: Bool?
    public var returnTokenStrs: Bool?

    enum CodingKeys: String, CodingKey {
        case model, prompt, messages
        case addSpecialTokens = "add_special_tokens", addGenerationPrompt = "add_generation_prompt"
        case returnTokenStrs = "return_token_strs"
    }
}
