// What one step runs and what it produced: the scheduler's decision handed to the model runner,
// and the per-request results handed back.

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

public struct SchedulerOutput: Sendable, Equatable {
    /// Running requests first, then newly admitted ones, in scheduling order.
    public var scheduled: [ScheduledRequest] = []
    /// Requests that lost their blocks this step.
    public var preempted: [String] = []
    /// Pulls of remote prefills to start (their blocks are allocated; they compute nothing yet).
    public var loads: [KVLoad] = []

    public var totalTokens: Int { scheduled.reduce(0) { $0 + $1.numTokens } }
    public var isEmpty: Bool { scheduled.isEmpty }
}

/// A request's progress after a step.
public struct RequestUpdate: Sendable, Equatable {
    public let requestId: String
    /// The token sampled this step, if any.
    public var newTokenId: Int32?
    public var finishReason: FinishReason?
    public var numPromptTokens: Int
    public var numCachedTokens: Int
    public var numOutputTokens: Int
    /// A producer's finished prefill whose blocks are now held for a remote decoder.
    public var held: HeldPrefill?
}
