// Token ids from an engine's `/tokenize` (vLLM's and Baton's: `{"messages"}` or `{"prompt"}` →
// `{"tokens"}`), for models whose tokenizer the router cannot load. One round trip per request;
// the decode endpoints are asked in turn, the next one when one fails.

import AsyncHTTPClient
import BatonModel
import BatonOpenAI
import Foundation
import NIOCore
import Synchronization

public struct RemotePromptTokenizer: PromptTokenizer {
    let endpoints: [Endpoint]
    let timeout: Duration
    let authorization: String?
    private let turn = Turn()

    final class Turn: Sendable {
        let value = Atomic<Int>(0)
    }

    public init(decode endpoints: [Endpoint], timeout: Duration, apiKey: String? = nil) {
        self.endpoints = endpoints
        self.timeout = timeout
        authorization = apiKey.map { "Bearer \($0)" }
    }

    struct Body: Encodable {
        var messages: [ChatMessage]?
        var prompt: String?
        var addGenerationPrompt: Bool?
        enum CodingKeys: String, CodingKey { case messages, prompt, addGenerationPrompt = "add_generation_prompt" }
    }

    struct Answer: Decodable { var tokens: [Int32] }

    /// Why an engine's `/tokenize` gave no ids: the router then routes by load alone (an
    /// APIError would fail the client's request for the engine's trouble).
    struct Failed: Error, CustomStringConvertible {
        var description: String
    }

    public func tokens(_ source: PromptFields.Source) async throws -> [Int32] {
        let body: Body
        switch source {
        case .chat(let messages, let addGenerationPrompt):
            body = Body(messages: messages, addGenerationPrompt: addGenerationPrompt)
        case .text(let text): body = Body(prompt: text)
        case .ids(let ids): return ids
        }
        let bytes = try JSONEncoder().encode(body)
        let start = turn.value.wrappingAdd(1, ordering: .relaxed).oldValue
        var lastError: any Error = Failed(description: "no endpoint to tokenize with")
        for k in 0..<endpoints.count {
            let endpoint = endpoints[(start &+ k & Int.max) % endpoints.count]
            do {
                var request = HTTPClientRequest(url: endpoint.url + "/tokenize")
                request.method = .POST
                request.headers.add(name: "Content-Type", value: "application/json")
                if let authorization { request.headers.add(name: "Authorization", value: authorization) }
                request.body = .bytes(ByteBuffer(bytes: bytes))
                let response = try await HTTPClient.shared.execute(request, timeout: .nanoseconds(timeout.nanoseconds))
                let answer = try await response.body.collect(upTo: 16 << 20)
                guard response.status.code == 200 else { throw Failed(description: "\(endpoint)/tokenize answered \(response.status.code)") }
                return try JSONDecoder().decode(Answer.self, from: Data(buffer: answer)).tokens
            } catch {
                lastError = error
            }
        }
        throw lastError
    }
}
