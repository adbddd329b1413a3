// Mean, median, standard deviation and percentiles of one `baton bench` latency. The standard
// deviation is the population one and percentiles interpolate linearly between order statistics,
// as numpy's (vLLM's) do. An empty list gives zeros, as numpy over `or 0` does.

/// Mean, median, standard deviation and percentiles of one latency, in milliseconds.
public struct LatencyStats: Codable, Sendable, Equatable {
    public var mean: Double
    public var median: Double
    public var std: Double
    public var p90: Double
    public var p99: Double

    /// `seconds` → milliseconds; zeros when empty (as numpy over `or 0`).
    public init(seconds: [Double]) {
        let ms = seconds.map { $0 * 1000 }.sorted()
        guard !ms.isEmpty else {
            self.init(mean: 0, median: 0, std: 0, p90: 0, p99: 0)
            return
        }
        let mean = ms.reduce(0, +) / Double(ms.count)
        let variance = ms.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(ms.count)
        self.init(mean: mean, median: percentile(ms, 50), std: variance.squareRoot(), p90: percentile(ms, 90), p99: percentile(ms, 99))
    }

    public init(mean: Double, median: Double, std: Double, p90: Double, p99: Double) {
        self.mean = mean
        self.median = median
        self.std = std
        self.p90 = p90
        self.p99 = p99
    }
}

/// numpy's default (linear) percentile of ascending `sorted`, `p` in 0…100.
public func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    let rank = p / 100 * Double(sorted.count - 1)
    let lo = Int(rank.rounded(.down)), hi = Int(rank.rounded(.up))
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - Double(lo))
}
