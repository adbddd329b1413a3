// `baton bench`'s figures, with `vllm bench serve`'s definitions, from per-request results:
//
//   TTFT   first chunk carrying a choice − request sent (its text may be empty, as vLLM counts it)
//   ITL    every gap between successive chunks carrying a choice, pooled over all requests
//   E2E    last chunk carrying a choice − request sent (the usage chunk and `[DONE]` do not count)
//   TPOT   (E2E − TTFT) ÷ (output tokens − 1), per request with more than one output token
//   throughput = completed requests (or output tokens, or input + output tokens) ÷ duration
//   goodput    = requests meeting every SLO given (TTFT ≤ slo_ttft, TPOT ≤ slo_tpot; a request
//                with one output token has TPOT 0) ÷ duration
//
// Means, medians and percentiles are over successful requests (ITL over all their gaps); the
// standard deviation is the population one and percentiles interpolate linearly between order
// statistics, as numpy's (vLLM's) do. An empty list gives zeros, as numpy over `or 0` does.

import Foundation

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

public struct BenchSummary: Sendable, Equatable {
    public var completed: Int
    public var failed: Int
    public var durationSeconds: Double
    public var totalInputTokens: Int
    public var totalOutputTokens: Int
    public var requestThroughput: Double
    public var outputThroughput: Double
    public var totalTokenThroughput: Double
    public var sloTTFTms: Double?
    public var sloTPOTms: Double?
    /// Requests/s meeting the SLOs; nil when no SLO was given.
    public var requestGoodput: Double?
    public var ttftMs: LatencyStats
    public var tpotMs: LatencyStats
    public var itlMs: LatencyStats
    public var e2elMs: LatencyStats
    /// Every request, in prompt order (the JSON lists their lengths, times and errors).
    public var results: [BenchRequestResult]
    /// Set by the caller to print the run's settings with the figures.
    public var settings: BenchSettings?

    /// The first few distinct errors, for the report.
    public var errors: [String] {
        var seen = Set<String>(), out: [String] = []
        for e in results.compactMap(\.error) where seen.insert(e).inserted && out.count < 5 { out.append(e) }
        return out
    }

    public init(results: [BenchRequestResult], duration: Double, sloTTFTms: Double? = nil, sloTPOTms: Double? = nil) {
        let ok = results.filter(\.success)
        self.results = results
        completed = ok.count
        failed = results.count - ok.count
        durationSeconds = duration
        totalInputTokens = ok.reduce(0) { $0 + $1.promptTokens }
        totalOutputTokens = ok.reduce(0) { $0 + $1.outputTokens }
        let d = max(duration, 1e-9)
        requestThroughput = Double(completed) / d
        outputThroughput = Double(totalOutputTokens) / d
        totalTokenThroughput = Double(totalInputTokens + totalOutputTokens) / d
        ttftMs = LatencyStats(seconds: ok.map(\.ttft))
        tpotMs = LatencyStats(seconds: ok.compactMap(\.tpot))
        itlMs = LatencyStats(seconds: ok.flatMap(\.itls))
        e2elMs = LatencyStats(seconds: ok.map(\.latency))
        self.sloTTFTms = sloTTFTms
        self.sloTPOTms = sloTPOTms
        if sloTTFTms != nil || sloTPOTms != nil {
            // vLLM compares in seconds: SLO ÷ 1000 ≥ the request's value; one token: TPOT 0.
            let good = ok.filter { r in
                (sloTTFTms.map { $0 / 1000 >= r.ttft } ?? true) && (sloTPOTms.map { $0 / 1000 >= (r.tpot ?? 0) } ?? true)
            }
            requestGoodput = Double(good.count) / d
        }
    }
}
