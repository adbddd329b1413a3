// The KV block pool: reference counts, the eviction-ordered free queue and the prefix cache
// (hash → block). A block whose count drops to zero keeps its hash and contents and goes to the
// back of the free queue: it can still be hit until it reaches the front and is reused (LRU
// eviction). vLLM v1's `BlockPool`. A pure value: no locks, no I/O.

import BatonModel

public struct BlockPool: Sendable {
    public let blockCount: Int
    public let enablePrefixCaching: Bool
    private(set) var refCounts: [Int]
    private(set) var hashes: [BlockHash?]
    public private(set) var freeQueue: FreeBlockQueue
    private var cached: [BlockHash: Int] = [:]

    public init(blockCount: Int, enablePrefixCaching: Bool = true) {
        precondition(blockCount >= 1)
        self.blockCount = blockCount
        self.enablePrefixCaching = enablePrefixCaching
        refCounts = Array(repeating: 0, count: blockCount)
        hashes = Array(repeating: nil, count: blockCount)
        freeQueue = FreeBlockQueue(blockCount: blockCount)
    }

    public var freeBlockCount: Int { freeQueue.count }

    /// Fraction of blocks referenced by a request, vLLM's `kv_cache_usage_perc` (0…1).
    public var usage: Double { Double(blockCount - freeBlockCount) / Double(blockCount) }

    public func refCount(_ block: Int) -> Int { refCounts[block] }

    public func hash(of block: Int) -> BlockHash? { hashes[block] }

    /// Blocks currently in the prefix cache.
    public var cachedBlockCount: Int { cached.count }

    /// The cached block holding `hash`, if any.
    public func cachedBlock(_ hash: BlockHash) -> Int? {
        enablePrefixCaching ? cached[hash] : nil
    }

    /// Takes `count` blocks from the front of the free queue (evicting their cached contents),
    /// each with one reference; nil, and nothing changed, if fewer are free.
    public mutating func takeNewBlocks(_ count: Int) -> [Int]? {
        guard count <= freeQueue.count else { return nil }
        var blocks: [Int] = []
        blocks.reserveCapacity(count)
        for _ in 0..<count {
            let b = freeQueue.popFirst()!
            evict(b)
            refCounts[b] = 1
            blocks.append(b)
        }
        return blocks
    }

    /// Adds a reference to each of `blocks` (prefix hits), taking free ones out of the queue.
    public mutating func touch(_ blocks: some Sequence<Int>) {
        for b in blocks {
            if refCounts[b] == 0 { freeQueue.remove(b) }
            refCounts[b] += 1
        }
    }

    /// Drops a reference from each of `blocks`, in order; blocks reaching zero go to the back of
    /// the free queue (callers pass a request's blocks tail first, so its prefix is evicted last).
    public mutating func free(_ blocks: some Sequence<Int>) {
        for b in blocks {
            precondition(refCounts[b] > 0, "block \(b) freed twice")
            refCounts[b] -= 1
            if refCounts[b] == 0 { freeQueue.append(b) }
        }
    }

    /// Records that `block` holds the full block named `hash`. A hash already cached in another
    /// block keeps that block (the duplicate stays private to its request).
    public mutating func cache(_ block: Int, hash: BlockHash) {
        guard enablePrefixCaching, hashes[block] == nil else { return }
        if cached[hash] != nil { return }
        hashes[block] = hash
        cached[hash] = block
    }

    /// Forgets every cached hash of a free block (vLLM's reset_prefix_cache).
    public mutating func resetPrefixCache() {
        for b in 0..<blockCount where refCounts[b] == 0 { evict(b) }
    }

    private mutating func evict(_ block: Int) {
        if let h = hashes[block] {
            if cached[h] == block { cached[h] = nil }
            hashes[block] = nil
        }
    }
}
