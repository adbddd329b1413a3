// A producer's held prefills: which blocks each finished prefill keeps for its decoder, and
// until when. A lease ends when the consumer says DONE, when it runs out without a heartbeat,
// or on abort; the engine then frees the blocks. A pure value: events in, ended leases out.

public struct KVLeaseTable: Sendable {
    public struct Lease: Sendable, Equatable {
        public var blocks: [Int]
        /// Monotonic seconds after which the blocks are freed.
        public var expiry: Double
    }

    public let leaseSeconds: Double
    public private(set) var leases: [String: Lease] = [:]

    public init(leaseSeconds: Double) {
        precondition(leaseSeconds > 0)
        self.leaseSeconds = leaseSeconds
    }

    public var heldBlockCount: Int { leases.values.reduce(0) { $0 + $1.blocks.count } }

    public mutating func grant(_ id: String, blocks: [Int], now: Double) {
        precondition(leases[id] == nil, "lease \(id) granted twice")
        leases[id] = Lease(blocks: blocks, expiry: now + leaseSeconds)
    }

    /// The blocks held for `id`, extending the lease (a read or a heartbeat is a sign of life).
    public mutating func renew(_ id: String, now: Double) -> [Int]? {
        guard var lease = leases[id] else { return nil }
        lease.expiry = max(lease.expiry, now + leaseSeconds)
        leases[id] = lease
        return lease.blocks
    }

    /// Ends `id`'s lease; its blocks, or nil if it had none.
    public mutating func release(_ id: String) -> [Int]? { leases.removeValue(forKey: id)?.blocks }

    /// Ends every lease past its expiry; their ids.
    public mutating func expire(now: Double) -> [String] {
        // Every engine step asks: answer without allocating when nothing is due.
        guard leases.values.contains(where: { $0.expiry <= now }) else { return [] }
        let ended = leases.filter { $0.value.expiry <= now }.map(\.key).sorted()
        for id in ended { leases[id] = nil }
        return ended
    }
}
