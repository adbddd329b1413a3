// The record of the autoscaler's applied decisions that `baton status` shows.

/// One applied scaling decision, kept for `baton status`.
public struct AutoscalerDecision: Sendable, Equatable {
    /// When it was applied (the caller's clock).
    public var at: Duration
    public var from: Int
    public var to: Int
    /// The look-back average of the pool's total metric that led to it.
    public var averageMetric: Double

    public init(at: Duration, from: Int, to: Int, averageMetric: Double) {
        self.at = at
        self.from = from
        self.to = to
        self.averageMetric = averageMetric
    }
}
