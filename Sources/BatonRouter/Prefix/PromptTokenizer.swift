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

/// The fields of a body that make up its prompt.
struct PromptFields: Decodable {
    var messages: [ChatMessageIn]?
    var prompt: PromptInput?
    var addGenerationPrompt: Bool?

    enum CodingKeys: String, CodingKey {
        case messages, prompt
        case addGenerationPrompt = "add_generation_prompt"
    }

    init(_ data: Data, kind: RequestKind) throws(APIError) {
        do { self = try JSONDecoder().decode(PromptFields.self, from: data) } catch { throw .decoding(error) }
        switch kind {
        case .chat:
            guard let messages, !messages.isEmpty else { throw .invalid("'messages' must be a non-empty list.", param: "messages") }
        case .completion:
            guard prompt != nil else { throw .invalid("'prompt' is required.", param: "prompt") }
        }
    }

    /// The chat messages as the engine renders them (`developer` is a system turn).
    var chatMessages: [ChatMessage] {
        (messages ?? []).map { ChatMessage(role: $0.role == "developer" ? "system" : $0.role, content: $0.content?.text ?? "") }
    }
}

public protocol PromptTokenizer: Sendable {
    /// Token ids of the request's prompt; throws a 400 for a body without a usable prompt.
    func tokens(_ body: Data, kind: RequestKind) async throws -> [Int32]
}

/// A GGUF's tokenizer and chat template, in the router's process.
public struct LocalPromptTokenizer: PromptTokenizer {
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

    public func tokens(_ body: Data, kind: RequestKind) throws -> [Int32] {
        let fields = try PromptFields(body, kind: kind)
        switch kind {
        case .chat:
            guard let template else { throw APIError.invalid("This model has no usable chat template; use /v1/completions.") }
            let text = template.render(fields.chatMessages, addGenerationPrompt: fields.addGenerationPrompt ?? true)
            return tokenizer.encode(text, addSpecial: true, parseSpecial: true)
        case .completion:
            switch fields.prompt {
            case .text(let s): return tokenizer.encode(s, addSpecial: true, parseSpecial: true)
            case .texts(let list): return list.first.map { tokenizer.encode($0, addSpecial: true, parseSpecial: true) } ?? []
            case .tokens(let ids): return ids.map { Int32(truncatingIfNeeded: $0) }
            case .tokenLists(let lists): return (lists.first ?? []).map { Int32(truncatingIfNeeded: $0) }
            case nil: return []
            }
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
}
