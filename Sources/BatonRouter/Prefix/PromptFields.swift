// The fields of a request body that make up its prompt (decoded with ProxyBody).

import BatonModel
import BatonOpenAI
import Foundation

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
