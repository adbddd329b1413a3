// The prompt's token ids, as the engine will see them: the chat template applied for chat,
// special tokens added. From a tokenizer loaded into the router, or from an engine's
// `/tokenize` for models Baton cannot load.

import BatonModel
import BatonOpenAI
import Foundation

public enum RequestKind: String, Sendable {
    case chat, completion

    public var path: String { self == .chat ? "/v1/chat/completions" : "/v1/completions" }
}

/// The fields of a body that make up its prompt, decoded with the rest of the body (ProxyBody).
public struct PromptFields: Decodable, Sendable {
    var messages: [ChatMessageIn]?
    var prompt: PromptInput?
    var addGenerationPrompt: Bool?

    /// The body keys the router reads, its prompt's and the fast lane's, so that one keyed
    /// container (JSONDecoder indexes an object's keys per container) serves all of them.
    enum BodyKeys: String, CodingKey {
        case messages, prompt, stream, user
        case addGenerationPrompt = "add_generation_prompt"
        case cacheSalt = "cache_salt", kvTransferParams = "kv_transfer_params"
    }

    public init(from decoder: any Decoder) throws { try self.init(decoder.container(keyedBy: BodyKeys.self)) }

    init(_ c: KeyedDecodingContainer<BodyKeys>) throws {
        messages = try c.decodeIfPresent([ChatMessageIn].self, forKey: .messages)
        prompt = try c.decodeIfPresent(PromptInput.self, forKey: .prompt)
        addGenerationPrompt = try c.decodeIfPresent(Bool.self, forKey: .addGenerationPrompt)
    }

    /// What is to be tokenized, as the engine takes it.
    public enum Source: Sendable, Equatable {
        /// Chat messages (`developer` already a system turn) and whether the assistant turn is opened.
        case chat([ChatMessage], addGenerationPrompt: Bool)
        case text(String)
        /// Token ids as the client sent them (the engine checks them against its vocabulary).
        case ids([Int32])
    }

    /// The prompt of a `kind` request; a 400 when it has none (as the engine would answer).
    public func source(_ kind: RequestKind) throws(APIError) -> Source {
        switch kind {
        case .chat:
            guard let messages, !messages.isEmpty else { throw .invalid("'messages' must be a non-empty list.", param: "messages") }
            let chat = messages.map { ChatMessage(role: $0.role == "developer" ? "system" : $0.role, content: $0.content?.text ?? "") }
            return .chat(chat, addGenerationPrompt: addGenerationPrompt ?? true)
        case .completion:
            switch prompt {
            case .text(let s): return .text(s)
            case .texts(let list): return .text(list.first ?? "")
            case .tokens(let ids): return .ids(ids.map { Int32(clamping: $0) })
            case .tokenLists(let lists): return .ids((lists.first ?? []).map { Int32(clamping: $0) })
            case nil: throw .invalid("'prompt' is required.", param: "prompt")
            }
        }
    }
}

public protocol PromptTokenizer: Sendable {
    /// Token ids of the prompt, as the engine will see them.
    func tokens(_ source: PromptFields.Source) async throws -> [Int32]
}

/// A tokenizer in the router's process, which answers without waiting: the fast lane calls it on
/// an event loop, with that loop's cache of pieces already merged.
public protocol LocalTokenizing: PromptTokenizer {
    func tokensNow(_ source: PromptFields.Source, cache: inout BPECache) throws -> [Int32]
}

/// The tokenizer `config.tokenizer` names.
public func makePromptTokenizer(_ config: RouterConfig) throws -> any PromptTokenizer {
    switch config.tokenizer {
    case .gguf(let path): return try LocalPromptTokenizer(ggufPath: path)
    case .remote:
        return RemotePromptTokenizer(
            decode: config.decode.compactMap(Endpoint.parse), timeout: config.timeouts.healthCheck, apiKey: config.upstreamAPIKey)
    }
}

/// A GGUF's tokenizer and chat template, in the router's process.
public struct LocalPromptTokenizer: LocalTokenizing {
    let tokenizer: Tokenizer
    let template: ChatTemplate?

    public init(tokenizer: Tokenizer, template: ChatTemplate?) {
        self.tokenizer = tokenizer
        self.template = template
    }

    /// Loads both from a GGUF file (its tensors are mapped, never read).
    public init(ggufPath: String) throws {
        let file = try GGUFFile(path: ggufPath)
        tokenizer = try Tokenizer(gguf: file)
        template = try? ChatTemplate(gguf: file)
    }

    public func tokens(_ source: PromptFields.Source) throws -> [Int32] {
        var none = BPECache(capacity: 0)
        return try tokensNow(source, cache: &none)
    }

    public func tokensNow(_ source: PromptFields.Source, cache: inout BPECache) throws -> [Int32] {
        switch source {
        case .chat(let messages, let addGenerationPrompt):
            guard let template else { throw APIError.invalid("This model has no usable chat template; use /v1/completions.") }
            return tokenizer.encode(
                template.render(messages, addGenerationPrompt: addGenerationPrompt), addSpecial: true, parseSpecial: true, cache: &cache)
        case .text(let text): return tokenizer.encode(text, addSpecial: true, parseSpecial: true, cache: &cache)
        case .ids(let ids): return ids
        }
    }
}

extension RoutingRequest {
    /// The request as the decider sees it: the chain of full-block hashes over `tokens`.
    public init(tokens: [Int32], blockSize: Int, salt: String?, session: String?) {
        var hashes: [BlockHash] = []
        BlockHash.extend(&hashes, tokens: tokens, blockSize: blockSize, salt: salt)
        self.init(blockHashes: hashes, promptTokens: tokens.count, session: session)
    }

    /// The request routed by load alone, when its prompt could not be tokenized: no block
    /// hashes, its length estimated from the body's bytes.
    static func byLoad(_ body: ProxyBody, session: String?) -> RoutingRequest {
        RoutingRequest(blockHashes: [], promptTokens: body.localBytes.count / 4, session: session)
    }
}
