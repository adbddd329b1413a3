// OpenAI response bodies: completions and chat, whole and as stream chunks, usage, logprobs,
// models, and vLLM's tokenize/detokenize answers.

public struct PromptTokensDetails: Codable, Sendable, Equatable {
    public var cachedTokens: Int
    public init(cachedTokens: Int) { self.cachedTokens = cachedTokens }
    enum CodingKeys: String, CodingKey { case cachedTokens = "cached_tokens" }
}

public struct Usage: Codable, Sendable, Equatable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int
    public var promptTokensDetails: PromptTokensDetails?

    public init(promptTokens: Int, completionTokens: Int, cachedTokens: Int) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        totalTokens = promptTokens + completionTokens
        promptTokensDetails = PromptTokensDetails(cachedTokens: cachedTokens)
    }

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens", completionTokens = "completion_tokens", totalTokens = "total_tokens"
        case promptTokensDetails = "prompt_tokens_details"
    }
}

// MARK: Chat

public struct TopLogprobOut: Codable, Sendable, Equatable {
    public var token: String
    public var logprob: Double
    public var bytes: [UInt8]
    public init(token: String, logprob: Double, bytes: [UInt8]) {
        self.token = token
        self.logprob = logprob
        self.bytes = bytes
    }
}

public struct ChatTokenLogprob: Codable, Sendable, Equatable {
    public var token: String
    public var logprob: Double
    public var bytes: [UInt8]
    public var topLogprobs: [TopLogprobOut]
    public init(token: String, logprob: Double, bytes: [UInt8], topLogprobs: [TopLogprobOut]) {
        self.token = token
        self.logprob = logprob
        self.bytes = bytes
        self.topLogprobs = topLogprobs
    }
    enum CodingKeys: String, CodingKey { case token, logprob, bytes, topLogprobs = "top_logprobs" }
}

public struct ChatLogprobs: Codable, Sendable, Equatable {
    public var content: [ChatTokenLogprob]
    public init(content: [ChatTokenLogprob]) { self.content = content }
}

public struct ChatMessageOut: Codable, Sendable, Equatable {
    public var role: String?
    public var content: String?
    public init(role: String?, content: String?) {
        self.role = role
        self.content = content
    }
}

public struct ChatChoice: Codable, Sendable {
    public var index: Int
    public var message: ChatMessageOut
    public var logprobs: ChatLogprobs?
    public var finishReason: String?
    public var stopReason: StopReasonValue?
    enum CodingKeys: String, CodingKey { case index, message, logprobs, finishReason = "finish_reason", stopReason = "stop_reason" }
    public init(index: Int, message: ChatMessageOut, logprobs: ChatLogprobs?, finishReason: String?, stopReason: StopReasonValue?) {
        self.index = index
        self.message = message
        self.logprobs = logprobs
        self.finishReason = finishReason
        self.stopReason = stopReason
    }
}

public struct ChatCompletion: Codable, Sendable {
    public var id: String
    public var object = "chat.completion"
    public var created: Int
    public var model: String
    public var choices: [ChatChoice]
    public var usage: Usage
    public var kvTransferParams: KVTransferParams?
    enum CodingKeys: String, CodingKey { case id, object, created, model, choices, usage, kvTransferParams = "kv_transfer_params" }
    public init(id: String, created: Int, model: String, choices: [ChatChoice], usage: Usage, kvTransferParams: KVTransferParams? = nil) {
        self.kvTransferParams = kvTransferParams
        self.id = id
        self.created = created
        self.model = model
        self.choices = choices
        self.usage = usage
    }
}

public struct ChatChunkChoice: Codable, Sendable {
    public var index: Int
    public var delta: ChatMessageOut
    public var logprobs: ChatLogprobs?
    public var finishReason: String?
    public var stopReason: StopReasonValue?
    enum CodingKeys: String, CodingKey { case index, delta, logprobs, finishReason = "finish_reason", stopReason = "stop_reason" }
    public init(index: Int, delta: ChatMessageOut, logprobs: ChatLogprobs?, finishReason: String?, stopReason: StopReasonValue?) {
        self.index = index
        self.delta = delta
        self.logprobs = logprobs
        self.finishReason = finishReason
        self.stopReason = stopReason
    }
}

public struct ChatCompletionChunk: Codable, Sendable {
    public var id: String
    public var object = "chat.completion.chunk"
    public var created: Int
    public var model: String
    public var choices: [ChatChunkChoice]
    public var usage: Usage?
    public init(id: String, created: Int, model: String, choices: [ChatChunkChoice], usage: Usage?) {
        self.id = id
        self.created = created
        self.model = model
        self.choices = choices
        self.usage = usage
    }
}

// MARK: Completions

public struct CompletionLogprobs: Codable, Sendable, Equatable {
    public var tokens: [String]
    public var tokenLogprobs: [Double]
    public var topLogprobs: [[String: Double]]
    public var textOffset: [Int]
    public init(tokens: [String], tokenLogprobs: [Double], topLogprobs: [[String: Double]], textOffset: [Int]) {
        self.tokens = tokens
        self.tokenLogprobs = tokenLogprobs
        self.topLogprobs = topLogprobs
        self.textOffset = textOffset
    }
    enum CodingKeys: String, CodingKey {
        case tokens, tokenLogprobs = "token_logprobs", topLogprobs = "top_logprobs", textOffset = "text_offset"
    }
}

public struct CompletionChoice: Codable, Sendable {
    public var index: Int
    public var text: String
    public var logprobs: CompletionLogprobs?
    public var finishReason: String?
    public var stopReason: StopReasonValue?
    enum CodingKeys: String, CodingKey { case index, text, logprobs, finishReason = "finish_reason", stopReason = "stop_reason" }
    public init(index: Int, text: String, logprobs: CompletionLogprobs?, finishReason: String?, stopReason: StopReasonValue?) {
        self.index = index
        self.text = text
        self.logprobs = logprobs
        self.finishReason = finishReason
        self.stopReason = stopReason
    }
}

/// `text_completion`, whole or as a stream chunk (same shape; `usage` only where due).
public struct Completion: Codable, Sendable {
    public var id: String
    public var object = "text_completion"
    public var created: Int
    public var model: String
    public var choices: [CompletionChoice]
    public var usage: Usage?
    public var kvTransferParams: KVTransferParams?
    enum CodingKeys: String, CodingKey { case id, object, created, model, choices, usage, kvTransferParams = "kv_transfer_params" }
    public init(id: String, created: Int, model: String, choices: [CompletionChoice], usage: Usage?, kvTransferParams: KVTransferParams? = nil) {
        self.kvTransferParams = kvTransferParams
        self.id = id
        self.created = created
        self.model = model
        self.choices = choices
        self.usage = usage
    }
}

/// vLLM's `stop_reason`: the stop string, the stop token id, or null.
public enum StopReasonValue: Codable, Sendable, Equatable {
    case string(String)
    case token(Int)

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) { self = .string(s) } else { self = .token(try c.decode(Int.self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .string(let s): try c.encode(s)
        case .token(let t): try c.encode(t)
        }
    }
}

// MARK: Models, tokenize

public struct ModelCard: Codable, Sendable {
    public var id: String
    public var object = "model"
    public var created: Int
    public var ownedBy = "baton"
    public var root: String
    public var maxModelLen: Int
    enum CodingKeys: String, CodingKey { case id, object, created, ownedBy = "owned_by", root, maxModelLen = "max_model_len" }
    public init(id: String, created: Int, root: String, maxModelLen: Int) {
        self.id = id
        self.created = created
        self.root = root
        self.maxModelLen = maxModelLen
    }
}

public struct ModelList: Codable, Sendable {
    public var object = "list"
    public var data: [ModelCard]
    public init(data: [ModelCard]) { self.data = data }
}

public struct TokenizeResponse: Codable, Sendable {
    public var count: Int
    public var maxModelLen: Int
    public var tokens: [Int]
    public var tokenStrs: [String]?
    enum CodingKeys: String, CodingKey { case count, maxModelLen = "max_model_len", tokens, tokenStrs = "token_strs" }
    public init(count: Int, maxModelLen: Int, tokens: [Int], tokenStrs: [String]?) {
        self.count = count
        self.maxModelLen = maxModelLen
        self.tokens = tokens
        self.tokenStrs = tokenStrs
    }
}

public struct DetokenizeResponse: Codable, Sendable {
    public var prompt: String
    public init(prompt: String) { self.prompt = prompt }
}
