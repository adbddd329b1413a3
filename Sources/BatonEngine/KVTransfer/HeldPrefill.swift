// A producer's finished prefill, held under a lease for its decoder.

/// A producer's finished prefill: the blocks it now holds under a lease for `requestId`.
public struct HeldPrefill: Sendable, Equatable {
    public var requestId: String
    public var blockIds: [Int]
    public var numTokens: Int
    /// Prompt tokens the producer served from its own prefix cache.
    public var cachedTokens: Int

    public init(requestId: String, blockIds: [Int], numTokens: Int, cachedTokens: Int) {
        self.requestId = requestId
        self.blockIds = blockIds
        self.numTokens = numTokens
        self.cachedTokens = cachedTokens
    }
}
