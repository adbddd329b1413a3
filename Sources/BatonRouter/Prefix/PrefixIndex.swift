// What the router believes an endpoint holds in its prefix cache: the block hashes of prompts
// it sent there, bounded, least recently used forgotten first. The hashes are the engine's own
// (`BlockHash`, chained), so a prompt's probable hit is the run of its leading blocks found.

import BatonModel

public struct PrefixIndex: Sendable {
    public let capacity: Int
    /// Hash → the tick it was last sent.
    private var lastUsed: [BlockHash: UInt64] = [:]
    private var clock: UInt64 = 0

    public init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    public var count: Int { lastUsed.count }

    /// Leading blocks of `hashes` found (the chain makes the first miss the end).
    public func matchedBlocks(_ hashes: [BlockHash]) -> Int {
        var n = 0
        for h in hashes {
            guard lastUsed[h] != nil else { break }
            n += 1
        }
        return n
    }

    /// Records that the blocks were sent there; forgets the least recently sent past capacity.
    /// Within one prompt the later blocks count as older, so eviction cuts chains from their
    /// tails (a chain's tail is no use without its head).
    public mutating func insert(_ hashes: [BlockHash]) {
        clock += UInt64(hashes.count)
        for (i, h) in hashes.enumerated() { lastUsed[h] = clock - UInt64(i) }
        if lastUsed.count > capacity + capacity / 4 { evict() }
    }

    /// Drops the oldest entries down to capacity (amortised: runs once per capacity/4 inserts).
    private mutating func evict() {
        let excess = lastUsed.count - capacity
        guard excess > 0 else { return }
        let cutoff = lastUsed.values.sorted()[excess - 1]
        var dropped = 0
        lastUsed = lastUsed.filter { _, tick in
            if tick <= cutoff && dropped < excess { dropped += 1; return false }
            return true
        }
    }

    public mutating func removeAll() { lastUsed.removeAll() }
}
