// The free blocks in eviction order: a doubly linked list threaded through two index arrays, so
// a block is taken from the front, put back at the back, or pulled out of the middle (a prefix
// hit on a free cached block) in O(1). vLLM's `FreeKVCacheBlockQueue`.

/// Free block ids, front = next to be reused (least recently freed).
public struct FreeBlockQueue: Sendable, Equatable {
    private static let none = -1
    private var next: [Int]
    private var prev: [Int]
    private var isFree: [Bool]
    private var head = -1
    private var tail = -1
    public private(set) var count = 0

    /// All `blockCount` blocks free, in id order.
    public init(blockCount: Int) {
        next = (0..<blockCount).map { $0 + 1 < blockCount ? $0 + 1 : Self.none }
        prev = (0..<blockCount).map { $0 - 1 }
        isFree = Array(repeating: true, count: blockCount)
        head = blockCount > 0 ? 0 : Self.none
        tail = blockCount - 1
        count = blockCount
    }

    public func contains(_ block: Int) -> Bool { isFree[block] }

    /// Takes the front block.
    public mutating func popFirst() -> Int? {
        guard head != Self.none else { return nil }
        let b = head
        remove(b)
        return b
    }

    /// Pulls `block` out wherever it is.
    public mutating func remove(_ block: Int) {
        precondition(isFree[block], "block \(block) is not free")
        let p = prev[block], n = next[block]
        if p != Self.none { next[p] = n } else { head = n }
        if n != Self.none { prev[n] = p } else { tail = p }
        prev[block] = Self.none
        next[block] = Self.none
        isFree[block] = false
        count -= 1
    }

    /// Puts `block` at the back (reused last).
    public mutating func append(_ block: Int) {
        precondition(!isFree[block], "block \(block) is already free")
        prev[block] = tail
        next[block] = Self.none
        if tail != Self.none { next[tail] = block } else { head = block }
        tail = block
        isFree[block] = true
        count += 1
    }

    /// The queue front to back.
    public var ids: [Int] {
        var out: [Int] = []
        out.reserveCapacity(count)
        var b = head
        while b != Self.none {
            out.append(b)
            b = next[b]
        }
        return out
    }
}
