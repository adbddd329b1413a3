// The prompt's token ids, as the engine will see them: the chat template applied for chat,
// special tokens added. From a tokenizer loaded into the router, or from an engine's
// `/tokenize` for models Baton cannot load.

import BatonModel
import BatonOpenAI
import Foundation

public protocol PromptTokenizer: Sendable {
    /// Token ids of the prompt, as the engine will see them.
    func tokens(_ source: PromptFields.Source) async throws -> [Int32]
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
