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
// Means, medians and percentiles are over successful requests (ITL over all their gaps); see
// LatencyStats for how they are computed.

import Foundation

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
