// What a `baton bench` run was asked to do, for the report (the table's header lines and the JSON).

/// What the run was asked to do, for the report (the table's header lines and the JSON).
public struct BenchSettings: Sendable, Equatable {
    public var url: String
    public var model: String
    public var dataset: String
    public var numPrompts: Int
    public var maxConcurrency: Int
    /// Requests per second; `.infinity` sends everything at once.
    public var requestRate: Double
    public var seed: UInt64

    public init(url: String, model: String, dataset: String, numPrompts: Int, maxConcurrency: Int, requestRate: Double, seed: UInt64) {
        self.url = url
        self.model = model
        self.dataset = dataset
        self.numPrompts = numPrompts
        self.maxConcurrency = maxConcurrency
        self.requestRate = requestRate
        self.seed = seed
    }
}
