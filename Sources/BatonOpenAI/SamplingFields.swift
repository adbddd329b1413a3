// The request fields both endpoints share: model, sampling (OpenAI's fields plus vLLM's
// extras: top_k, min_p, repetition_penalty, stop_token_ids, ignore_eos), streaming, cache_salt,
// kv_transfer_params.

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
