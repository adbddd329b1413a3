// The weights of the decider's endpoint score (RouterConfig.weights).

/// Weights of the three scores (each in 0…1) an endpoint is ranked by.
public struct ScoreWeights: Sendable, Equatable {
    /// Fraction of the prompt's blocks the endpoint probably holds.
    public var prefix: Double = 2
    /// 1 for the least loaded candidate, 0 for the most (queue and KV usage).
    public var load: Double = 1
    /// 1 for the endpoint the session last used.
    public var session: Double = 4

    public init(prefix: Double = 2, load: Double = 1, session: Double = 4) {
        self.prefix = prefix
        self.load = load
        self.session = session
    }
}
