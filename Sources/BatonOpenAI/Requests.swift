// OpenAI request bodies as vLLM accepts them (OpenAI's fields plus vLLM's sampling extras:
// top_k, min_p, repetition_penalty, stop_token_ids, ignore_eos, cache_salt, kv_transfer_params).

public struct StreamOptions: Codable, Sendable, Equatable {
    public var includeUsage: Bool?
    enum CodingKeys: String, CodingKey { case includeUsage = "include_usage" }
}

public struct ChatMessageIn: Codable, Sendable, Equatable {
    public var role: String
    public var content: MessageContent?
    public var name: String?
}

/// The fields both endpoints share (model, sampling, streaming, vLLM's extras). Each request
/// decodes them from its own JSON object, beside its endpoint's fields.
public struct SamplingFields: Codable, Sendable {
    public var model: String?
    public var maxTokens: Int?
    public var temperature: Double?
    public var topP: Double?
    public var topK: Int?
    public var minP: Double?
    public var presencePenalty: Double?
    public var frequencyPenalty: Double?
    public var repetitionPenalty: Double?
    public var seed: Int?
    public var stop: OneOrMany<String>?
    public var stopTokenIds: [Int]?
    public var ignoreEOS: Bool?
    public var n: Int?
    public var stream: Bool?
    public var streamOptions: StreamOptions?
    public var user: String?
    public var cacheSalt: String?
    public var kvTransferParams: KVTransferParams?

    enum CodingKeys: String, CodingKey {
        case model, temperature, seed, stop, n, stream, user
        case maxTokens = "max_tokens", topP = "top_p", topK = "top_k", minP = "min_p"
        case presencePenalty = "presence_penalty", frequencyPenalty = "frequency_penalty"
        case repetitionPenalty = "repetition_penalty", stopTokenIds = "stop_token_ids", ignoreEOS = "ignore_eos"
        case streamOptions = "stream_options", cacheSalt = "cache_salt", kvTransferParams = "kv_transfer_params"
    }
}

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

public struct DetokenizeRequest: Codable, Sendable {
    public var model: String?
    public var tokens: [Int]
}
