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

/// The sampling fields shared by both endpoints.
public protocol SamplingRequest {
    var maxTokens: Int? { get }
    var temperature: Double? { get }
    var topP: Double? { get }
    var topK: Int? { get }
    var minP: Double? { get }
    var presencePenalty: Double? { get }
    var frequencyPenalty: Double? { get }
    var repetitionPenalty: Double? { get }
    var seed: Int? { get }
    var stop: OneOrMany<String>? { get }
    var stopTokenIds: [Int]? { get }
    var ignoreEOS: Bool? { get }
    var n: Int? { get }
    var stream: Bool? { get }
    var streamOptions: StreamOptions? { get }
    var cacheSalt: String? { get }
    var kvTransferParams: KVTransferParams? { get }
}

public struct ChatCompletionRequest: Codable, Sendable, SamplingRequest {
    public var model: String?
    public var messages: [ChatMessageIn]
    public var maxTokens: Int?
    public var maxCompletionTokens: Int?
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
    public var logprobs: Bool?
    public var topLogprobs: Int?
    public var user: String?
    public var addGenerationPrompt: Bool?
    public var cacheSalt: String?
    public var kvTransferParams: KVTransferParams?

    enum CodingKeys: String, CodingKey {
        case model, messages, temperature, seed, stop, n, stream, logprobs, user
        case maxTokens = "max_tokens", maxCompletionTokens = "max_completion_tokens", topP = "top_p", topK = "top_k"
        case minP = "min_p", presencePenalty = "presence_penalty", frequencyPenalty = "frequency_penalty"
        case repetitionPenalty = "repetition_penalty", stopTokenIds = "stop_token_ids", ignoreEOS = "ignore_eos"
        case streamOptions = "stream_options", topLogprobs = "top_logprobs", addGenerationPrompt = "add_generation_prompt"
        case cacheSalt = "cache_salt", kvTransferParams = "kv_transfer_params"
    }
}

public struct CompletionRequest: Codable, Sendable, SamplingRequest {
    public var model: String?
    public var prompt: PromptInput
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
    /// Number of alternatives per token (0…20), the legacy API's integer.
    public var logprobs: Int?
    public var echo: Bool?
    public var user: String?
    public var cacheSalt: String?
    public var kvTransferParams: KVTransferParams?

    enum CodingKeys: String, CodingKey {
        case model, prompt, temperature, seed, stop, n, stream, logprobs, echo, user
        case maxTokens = "max_tokens", topP = "top_p", topK = "top_k", minP = "min_p"
        case presencePenalty = "presence_penalty", frequencyPenalty = "frequency_penalty"
        case repetitionPenalty = "repetition_penalty", stopTokenIds = "stop_token_ids", ignoreEOS = "ignore_eos"
        case streamOptions = "stream_options", cacheSalt = "cache_salt", kvTransferParams = "kv_transfer_params"
    }
}

/// vLLM's NixlConnector `kv_transfer_params` (extra fields ignored, all optional).
public struct KVTransferParams: Codable, Sendable, Equatable {
    public var doRemoteDecode: Bool?
    public var doRemotePrefill: Bool?
    public var remoteEngineId: String?
    public var remoteRequestId: String?
    public var remoteBlockIds: [Int]?
    public var remoteHost: String?
    public var remotePort: Int?
    public var tpSize: Int?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case doRemoteDecode = "do_remote_decode", doRemotePrefill = "do_remote_prefill"
        case remoteEngineId = "remote_engine_id", remoteRequestId = "remote_request_id"
        case remoteBlockIds = "remote_block_ids", remoteHost = "remote_host", remotePort = "remote_port", tpSize = "tp_size"
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
