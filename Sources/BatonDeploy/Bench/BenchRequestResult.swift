// One request as `baton bench`'s load generator saw it: success, tokens, and the times of its
// chunks, from which BenchSummary computes the figures.

/// One request as the load generator saw it.
public struct BenchRequestResult: Sendable, Equatable {
    public var success: Bool
    public var promptTokens: Int
    public var outputTokens: Int
    /// Seconds, request sent to its first chunk carrying a choice.
    public var ttft: Double
    /// Seconds between successive chunks carrying a choice.
    public var itls: [Double]
    /// Seconds, request sent to its last chunk carrying a choice (for a failure: to the failure).
    public var latency: Double
    public var error: String?

    public init(success: Bool, promptTokens: Int, outputTokens: Int, ttft: Double, itls: [Double], latency: Double, error: String? = nil) {
        self.success = success
        self.promptTokens = promptTokens
        self.outputTokens = outputTokens
        self.ttft = ttft
        self.itls = itls
        self.latency = latency
        self.error = error
    }

    public static func failed(_ error: String, latency: Double) -> BenchRequestResult {
        BenchRequestResult(success: false, promptTokens: 0, outputTokens: 0, ttft: 0, itls: [], latency: latency, error: error)
    }

    /// (E2E − TTFT) ÷ (output tokens − 1); nil with fewer than two output tokens.
    public var tpot: Double? {
        outputTokens > 1 ? (latency - ttft) / Double(outputTokens - 1) : nil
    }
}
