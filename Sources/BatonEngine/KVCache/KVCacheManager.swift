// Which blocks each request holds: prefix-cache lookups, slot allocation as a request grows,
// and freeing. vLLM v1's `KVCacheManager` (one KV cache group). A pure value.

public struct KVCacheManager: Sendable {
    public let blockSize: Int
    public private(set) var pool: BlockPool
    /// Each request's blocks in position order (its block table).
    public private(set) var requestBlocks: [String: [Int]] = [:]
    /// How many of a request's leading blocks are already in the prefix cache.
    private var numCachedBlocks: [String: Int] = [:]
    /// Prefix-cache lookups and hits, in tokens (vLLM's prefix_cache_queries/hits).
    public private(set) var prefixCacheQueries = 0
    public private(set) var prefixCacheHits = 0

    public init(blockCount: Int, blockSize: Int, enablePrefixCaching: Bool = true) {
        precondition(blockSize >= 1)
        self.blockSize = blockSize
        pool = BlockPool(blockCount: blockCount, enablePrefixCaching: enablePrefixCaching)
    }

    public var usage: Double { pool.usage }

    public func blockTable(_ requestId: String) -> [Int] { requestBlocks[requestId] ?? [] }

    /// Blocks needed to hold `tokens` tokens.
    public func blocksNeeded(tokens: Int) -> Int { Self.blocksNeeded(tokens: tokens, blockSize: blockSize) }

    /// Blocks of `blockSize` tokens needed to hold `tokens` tokens (the one definition of the
    /// count: the scheduler's allocations and `KVHandoff`'s check of a remote prefill's blocks).
    public static func blocksNeeded(tokens: Int, blockSize: Int) -> Int { (tokens + blockSize - 1) / blockSize }

    /// The longest cached prefix of `request` as blocks, leaving at least its last token to be
    /// computed (the model must produce its logits). Counts a prefix-cache query.
    public mutating func computedBlocks(for request: Request) -> (blocks: [Int], tokens: Int) {
        prefixCacheQueries += request.numTokens
        guard pool.enablePrefixCaching else { return ([], 0) }
        let maxBlocks = (request.numTokens - 1) / blockSize
        var blocks: [Int] = []
        for hash in request.blockHashes.prefix(maxBlocks) {
            guard let b = pool.cachedBlock(hash) else { break }
            blocks.append(b)
        }
        prefixCacheHits += blocks.count * blockSize
        return (blocks, blocks.count * blockSize)
    }

    /// Makes room for `numNewTokens` more tokens of `request` after its computed ones (and the
    /// prefix hits `newComputedBlocks`, which it takes a reference on). Returns the new blocks, or
    /// nil, with nothing changed, when they do not fit. With `delayCaching` the new blocks are
    /// not entered in the prefix cache yet (their contents arrive later: a remote pull); call
    /// `cacheBlocks` once they are there.
    public mutating func allocateSlots(
        _ request: Request, numNewTokens: Int, newComputedBlocks: [Int] = [], delayCaching: Bool = false
    ) -> [Int]? {
        let held = requestBlocks[request.id]?.count ?? 0
        let computed = request.numComputedTokens + newComputedBlocks.count * blockSize
        let required = blocksNeeded(tokens: computed + numNewTokens)
        let newCount = max(0, required - held - newComputedBlocks.count)
        // Hits sitting in the free queue stop being free once touched.
        let hitsFree = newComputedBlocks.filter { pool.refCount($0) == 0 }.count
        guard newCount <= pool.freeBlockCount - hitsFree else { return nil }

        pool.touch(newComputedBlocks)
        let fresh = pool.takeNewBlocks(newCount)!
        requestBlocks[request.id, default: []].append(contentsOf: newComputedBlocks + fresh)
        if numCachedBlocks[request.id] == nil { numCachedBlocks[request.id] = newComputedBlocks.count }

        // Cache every block that will be full of known tokens once this step has run.
        if !delayCaching { cacheBlocks(request, tokens: computed + numNewTokens) }
        return fresh
    }

    /// Enters `request`'s blocks that are full within its first `tokens` tokens in the prefix cache.
    public mutating func cacheBlocks(_ request: Request, tokens: Int) {
        guard let blocks = requestBlocks[request.id], var done = numCachedBlocks[request.id] else { return }
        let fullBlocks = min(tokens, request.numTokens) / blockSize
        while done < min(fullBlocks, request.blockHashes.count, blocks.count) {
            pool.cache(blocks[done], hash: request.blockHashes[done])
            done += 1
        }
        numCachedBlocks[request.id] = done
    }

    /// Keeps `requestId`'s first `count` blocks (held for a remote decoder) and frees the rest;
    /// the kept blocks, released later with `free`.
    public mutating func hold(_ requestId: String, keeping count: Int) -> [Int] {
        guard var blocks = requestBlocks[requestId] else { return [] }
        if blocks.count > count {
            pool.free(blocks[count...].reversed())
            blocks.removeLast(blocks.count - count)
            requestBlocks[requestId] = blocks
        }
        return blocks
    }

    /// Releases all of a request's blocks, tail first so its prefix stays cached longest.
    public mutating func free(_ requestId: String) {
        guard let blocks = requestBlocks.removeValue(forKey: requestId) else { return }
        numCachedBlocks[requestId] = nil
        pool.free(blocks.reversed())
    }

    public mutating func resetPrefixCache() { pool.resetPrefixCache() }
}
