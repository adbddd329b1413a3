// One request's share of a step.

import BatonModel

/// One request's share of a step: `tokenIds` at positions `start ..< start + tokenIds.count`.
public struct ScheduledRequest: Sendable, Equatable {
    public let requestId: String
    public let start: Int
    public let tokenIds: [Int32]
    /// The request's whole block table after allocation.
    public let blockTable: [Int]
    /// The request's prompt length: later positions are generated tokens (attention order).
    public let promptLength: Int
    /// The chunk reaches the end of the known tokens: sample the next one.
    public let samples: Bool

    public var numTokens: Int { tokenIds.count }
}
