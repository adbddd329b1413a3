// The `/v1/chat/completions` request body as vLLM accepts it.

public struct ChatCompletionRequest: Codable, Sendable {
    public var sampling: SamplingFields
    public var messages: [ChatMessageIn]
    public var maxCompletionTokens: Int?
    public var logprobs: Bool?
    public var topLogprobs: Int?
    public var addGenerationPrompt: Bool?

    enum CodingKeys: String, CodingKey {
        case messages, logprobs
        case maxCompletionTokens = "max_completion_tokens", topLogprobs = "top_logprobs"
        case addGenerationPrompt = "add_generation_prompt"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        messages = try c.decode([ChatMessageIn].self, forKey: .messages)
        maxCompletionTokens = try c.decodeIfPresent(Int.self, forKey: .maxCompletionTokens)
        logprobs = try c.decodeIfPresent(Bool.self, forKey: .logprobs)
        topLogprobs = try c.decodeIfPresent(Int.self, forKey: .topLogprobs)
        addGenerationPrompt = try c.decodeIfPresent(Bool.self, forKey: .addGenerationPrompt)
        sampling = try SamplingFields(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(messages, forKey: .messages)
        try c.encodeIfPresent(maxCompletionTokens, forKey: .maxCompletionTokens)
        try c.encodeIfPresent(logprobs, forKey: .logprobs)
        try c.encodeIfPresent(topLogprobs, forKey: .topLogprobs)
        try c.encodeIfPresent(addGenerationPrompt, forKey: .addGenerationPrompt)
        try sampling.encode(to: encoder)
    }
}
