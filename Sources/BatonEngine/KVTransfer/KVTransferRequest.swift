// What a request says about KV transfer, in engine terms (the API layer maps vLLM's
// `kv_transfer_params` to these), and what a producer hands back.

/// Where a request's prompt KV already is: a producer's held blocks (vLLM's
/// `do_remote_prefill: true` parameters).
public struct RemotePrefill: Sendable, Equatable {
    public var engineId: String
    /// The producer's id for the held blocks (its lease).
    public var requestId: String
    /// The producer's blocks, in prompt order.
    public var blockIds: [Int]
    public var host: String
    public var port: Int

    public init(engineId: String, requestId: String, blockIds: [Int], host: String, port: Int) {
        self.engineId = engineId
        self.requestId = requestId
        self.blockIds = blockIds
        self.host = host
        self.port = port
    }
}

/// A request's part in a split.
public enum KVTransferIntent: Sendable, Equatable {
    /// Prefill here and hold the prompt's blocks for a remote decoder (`do_remote_decode`).
    case produce
    /// The prompt was prefilled remotely: pull its blocks, then decode (`do_remote_prefill`).
    case consume(RemotePrefill)
}

/// A producer's finished prefill: the blocks it now holds under a lease for `requestId`.
public struct HeldPrefill: Sendable, Equatable {
    public var requestId: String
    public var blockIds: [Int]
    public var numTokens: Int
    /// Prompt tokens the producer served from its own prefix cache.
    public var cachedTokens: Int
}

/// A consumer's pull, decided by the scheduler: read the producer's `remoteBlocks` into this
/// engine's `localBlocks` (same count, same order). The first `skippedBlocks` of the prompt were
/// already in the local prefix cache and are not pulled.
public struct KVLoad: Sendable, Equatable {
    public var requestId: String
    public var remote: RemotePrefill
    public var remoteBlocks: [Int]
    public var localBlocks: [Int]
    public var skippedBlocks: Int
}
