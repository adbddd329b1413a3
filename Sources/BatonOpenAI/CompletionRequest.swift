// The `/v1/completions` request body as vLLM accepts it.

public struct CompletionRequest: Codable, Sendable {
    public var sampling: SamplingFields
    public var prompt: PromptInput
    /// Number of alternatives per token (0…20), the legacy API's integer.
    public var logprobs: Int?
    public var echo: Bool?

    /// Tokens generated at most when `max_tokens` is not given: 16, OpenAI's and vLLM's default
    /// for completions (chat's is the rest of the context).
    public static let defaultMaxTokens = 16

    enum CodingKeys: String, CodingKey { case prompt, logprobs, echo }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        prompt = try c.decode(PromptInput.self, forKey: .prompt)
        logprobs = try c.decodeIfPresent(Int.self, forKey: .logprobs)
        echo = try c.decodeIfPresent(Bool.self, forKey: .echo)
        sampling = try SamplingFields(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(prompt, forKey: .prompt)
        try c.encodeIfPresent(logprobs, forKey: .logprobs)
        try c.encodeIfPresent(echo, forKey: .echo)
        try sampling.encode(to: encoder)
    }
}
