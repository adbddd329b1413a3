// Where a request's prompt KV already is: a producer's held blocks.

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
    /// Prompt tokens the producer served from its own prefix cache (`remote_prefill_cached_tokens`):
    /// once the pull succeeds, the request's `cached_tokens`, as one engine would have counted them.
    public var prefillCachedTokens: Int?

    public init(engineId: String, requestId: String, blockIds: [Int], host: String, port: Int, prefillCachedTokens: Int? = nil) {
        self.prefillCachedTokens = prefillCachedTokens
        self.engineId = engineId
        self.requestId = requestId
        self.blockIds = blockIds
        self.host = host
        self.port = port
    }
}
