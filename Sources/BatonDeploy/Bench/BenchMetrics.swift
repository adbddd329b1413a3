// `baton bench`'s figures, with `vllm bench serve`'s definitions, from per-request results:
//
//   TTFT   first content token's arrival − request sent
//   TPOT   (E2E − TTFT) ÷ (output tokens − 1), per request with more than one output token
//   ITL    every gap between successive content chunks, pooled over all requests
//   E2E    last byte − request sent
//   throughput = completed requests (or output tokens, or input + output tokens) ÷ duration
//   goodput    = requests meeting every SLO given (TTFT ≤ slo_ttft, TPOT ≤ slo_tpot; a request
//                with one output token has TPOT 0) ÷ duration
//
// Percentiles interpolate linearly between order statistics, as numpy's (vLLM's) do.

import Foundation

/// One request as the load generator saw it.
public struct BenchRequestResult: Sendable, Equatable {
    public var success: Bool
    public var promptTokens: Int
    public var outputTokens: Int
    /// Seconds.
    public var ttft: Double
    /// Seconds between successive content chunks.
    public var itls: [Double]
    /// Seconds, request sent to last byte.
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

public struct BenchSummary: Codable, Sendable, Equatable {
    public var completed: Int
    public var failed: Int
    public var durationSeconds: Double
    public var totalInputTokens: Int
    public var totalOutputTokens: Int
    public var requestThroughput: Double
    public var outputThroughput: Double
    public var totalTokenThroughput: Double
    /// Requests/s meeting the SLOs; nil when no SLO was given.
    public var requestGoodput: Double?
    public var ttftMs: LatencyStats
    public var tpotMs: LatencyStats
    public var itlMs: LatencyStats
    public var e2elMs: LatencyStats
    /// The first few errors, for the report.
    public var errors: [String]

    public init(results: [BenchRequestResult], duration: Double, sloTTFTms: Double? = nil, sloTPOTms: Double? = nil) {
        let ok = results.filter(\.success)
        completed = ok.count
        failed = results.count - ok.count
        durationSeconds = duration
        totalInputTokens = ok.reduce(0) { $0 + $1.promptTokens }
        totalOutputTokens = ok.reduce(0) { $0 + $1.outputTokens }
        let d = max(duration, 1e-9)
        requestThroughput = Double(completed) / d
        outputThroughput = Double(totalOutputTokens) / d
        totalTokenThroughput = Double(totalInputTokens + totalOutputTokens) / d
        let tpots = ok.filter { $0.outputTokens > 1 }.map { ($0.latency - $0.ttft) / Double($0.outputTokens - 1) }
        ttftMs = LatencyStats(seconds: ok.map(\.ttft))
        tpotMs = LatencyStats(seconds: tpots)
        itlMs = LatencyStats(seconds: ok.flatMap(\.itls))
        e2elMs = LatencyStats(seconds: ok.map(\.latency))
        if sloTTFTms != nil || sloTPOTms != nil {
            let good = ok.filter { r in
                let tpot = r.outputTokens > 1 ? (r.latency - r.ttft) / Double(r.outputTokens - 1) : 0
                return (sloTTFTms.map { r.ttft * 1000 <= $0 } ?? true) && (sloTPOTms.map { tpot * 1000 <= $0 } ?? true)
            }
            requestGoodput = Double(good.count) / d
        }
        errors = Array(results.compactMap(\.error).prefix(5))
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        return e
    }()

    public func json() throws -> Data { try Self.encoder.encode(self) }

    /// The summary table, laid out as `vllm bench serve` prints its own.
    public var table: String {
        func row(_ name: String, _ value: String) -> String { name.padding(toLength: 40, withPad: " ", startingAt: 0) + value }
        func f(_ v: Double) -> String { String(format: "%.2f", v) }
        var lines = ["============ Serving Benchmark Result ============"]
        lines.append(row("Successful requests:", String(completed)))
        lines.append(row("Failed requests:", String(failed)))
        lines.append(row("Benchmark duration (s):", f(durationSeconds)))
        lines.append(row("Total input tokens:", String(totalInputTokens)))
        lines.append(row("Total generated tokens:", String(totalOutputTokens)))
        lines.append(row("Request throughput (req/s):", f(requestThroughput)))
        if let requestGoodput { lines.append(row("Request goodput (req/s):", f(requestGoodput))) }
        lines.append(row("Output token throughput (tok/s):", f(outputThroughput)))
        lines.append(row("Total Token throughput (tok/s):", f(totalTokenThroughput)))
        for (title, name, stats) in [
            ("Time to First Token", "TTFT", ttftMs), ("Time per Output Token (excl. 1st token)", "TPOT", tpotMs),
            ("Inter-token Latency", "ITL", itlMs), ("End-to-end Latency", "E2EL", e2elMs),
        ] {
            lines.append(("--- " + title + " ").padding(toLength: 50, withPad: "-", startingAt: 0))
            lines.append(row("Mean \(name) (ms):", f(stats.mean)))
            lines.append(row("Median \(name) (ms):", f(stats.median)))
            lines.append(row("P90 \(name) (ms):", f(stats.p90)))
            lines.append(row("P99 \(name) (ms):", f(stats.p99)))
        }
        lines.append("==================================================")
        return lines.joined(separator: "\n")
    }
}
