// One request as the scheduler sees it: its tokens, how far the KV cache has computed them and
// its state (a finished request leaves the scheduler). vLLM v1's `Request`.

import BatonModel

public struct Request: Sendable {
    public let id: String
    public let promptTokenIds: [Int32]
    public let parameters: RequestParameters
    /// Its part in a prefill/decode split; cleared once a consumer's pull has ended.
    public internal(set) var kvTransfer: KVTransferIntent?
    public internal(set) var outputTokenIds: [Int32] = []
    public internal(set) var status: RequestStatus = .waiting
    /// Tokens whose K/V are in the cache (prefix hits included).
    public internal(set) var numComputedTokens = 0
    /// Prompt tokens served from the prefix cache at first scheduling (usage `cached_tokens`).
    public internal(set) var numCachedTokens = 0
    /// Hashes of the full blocks of `allTokenIds`.
    public internal(set) var blockHashes: [BlockHash] = []
    /// prompt + output, what the cache must hold.
    public internal(set) var allTokenIds: [Int32]

    public init(id: String, promptTokenIds: [Int32], parameters: RequestParameters, kvTransfer: KVTransferIntent? = nil) {
        self.id = id
        self.promptTokenIds = promptTokenIds
        self.parameters = parameters
        self.kvTransfer = kvTransfer
        allTokenIds = promptTokenIds
    }

    public var numTokens: Int { allTokenIds.count }
    public var numPromptTokens: Int { promptTokenIds.count }

    mutating func appendOutput(_ token: Int32, blockSize: Int) {
        outputTokenIds.append(token)
        allTokenIds.append(token)
        updateBlockHashes(blockSize: blockSize)
    }

    mutating func updateBlockHashes(blockSize: Int) {
        BlockHash.extend(&blockHashes, tokens: allTokenIds, blockSize: blockSize, salt: parameters.cacheSalt)
    }
}
