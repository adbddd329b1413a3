// What one step runs and what it produced: the scheduler's decision handed to the model runner,
// and the per-request results handed back.

import BatonModel

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
