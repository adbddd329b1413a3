// Session affinity: the endpoint each session (the session header, or the body's `user`) last
// went to, bounded, least recently used forgotten first.

public struct SessionTable: Sendable {
    public let capacity: Int
    private var entries: [String: (endpoint: Int, tick: UInt64)] = [:]
    private var clock: UInt64 = 0

    public init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    public var count: Int { entries.count }

    public func endpoint(for session: String) -> Int? { entries[session]?.endpoint }

    public mutating func record(_ session: String, endpoint: Int) {
        clock += 1
        entries[session] = (endpoint, clock)
        if entries.count > capacity + capacity / 4 {
            let cutoff = entries.values.map(\.tick).sorted()[entries.count - capacity - 1]
            entries = entries.filter { $0.value.tick > cutoff }
        }
    }
}
