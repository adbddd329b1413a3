// How long a crashed replica waits before it is started again: doubling from `base` to `max`
// while it keeps crashing soon after starting, back to `base` once a run lasted `stable`.
// Pure: the supervisor feeds it run lengths.

public struct RestartBackoff: Sendable, Equatable {
    public let base: Duration
    public let max: Duration
    /// A run at least this long counts as recovered.
    public let stable: Duration
    public private(set) var next: Duration
    /// Crashes in a row, each within `stable` of its start.
    public private(set) var crashes = 0

    public init(base: Duration = .seconds(1), max: Duration = .seconds(30), stable: Duration = .seconds(60)) {
        self.base = base
        self.max = max
        self.stable = stable
        next = base
    }

    /// The replica ended after running `ranFor`; the delay before starting it again.
    public mutating func exited(after ranFor: Duration) -> Duration {
        if ranFor >= stable {
            crashes = 0
            next = base
        }
        crashes += 1
        let delay = next
        next = Swift.min(next * 2, max)
        return delay
    }
}
