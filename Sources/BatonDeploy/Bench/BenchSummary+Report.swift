// `baton bench`'s two reports of a `BenchSummary`: the table, laid out as `vllm bench serve`
// prints its own, and the JSON, which carries vLLM's result keys (`mean_ttft_ms`, `ttfts`,
// `itls`, …) alongside nested ones (`ttft_ms.p99`, …).

import Foundation

extension BenchSummary {
    /// The summary table, line for line in `vllm bench serve`'s layout (plus P90 and E2EL).
    public var table: String {
        func row(_ name: String, _ value: String) -> String { name.padding(toLength: 40, withPad: " ", startingAt: 0) + " " + value }
        func f(_ v: Double) -> String { String(format: "%.2f", v) }
        // A title centred in 50 columns, as Python's `"{s:-^50}"`.
        func section(_ title: String, _ fill: String = "-") -> String {
            let pad = max(50 - title.count, 0)
            return String(repeating: fill, count: pad / 2) + title + String(repeating: fill, count: pad - pad / 2)
        }
        var lines = [section(" Serving Benchmark Result ", "=")]
        lines.append(row("Successful requests:", String(completed)))
        lines.append(row("Failed requests:", String(failed)))
        if let settings {
            lines.append(row("Maximum request concurrency:", String(settings.maxConcurrency)))
            if settings.requestRate.isFinite { lines.append(row("Request rate configured (RPS):", f(settings.requestRate))) }
        }
        lines.append(row("Benchmark duration (s):", f(durationSeconds)))
        lines.append(row("Total input tokens:", String(totalInputTokens)))
        lines.append(row("Total generated tokens:", String(totalOutputTokens)))
        lines.append(row("Request throughput (req/s):", f(requestThroughput)))
        if let requestGoodput { lines.append(row("Request goodput (req/s):", f(requestGoodput))) }
        lines.append(row("Output token throughput (tok/s):", f(outputThroughput)))
        lines.append(row("Total token throughput (tok/s):", f(totalTokenThroughput)))
        for (title, name, stats) in [
            ("Time to First Token", "TTFT", ttftMs), ("Time per Output Token (excl. 1st token)", "TPOT", tpotMs),
            ("Inter-token Latency", "ITL", itlMs), ("End-to-end Latency", "E2EL", e2elMs),
        ] {
            lines.append(section(title))
            lines.append(row("Mean \(name) (ms):", f(stats.mean)))
            lines.append(row("Median \(name) (ms):", f(stats.median)))
            lines.append(row("P90 \(name) (ms):", f(stats.p90)))
            lines.append(row("P99 \(name) (ms):", f(stats.p99)))
        }
        lines.append(String(repeating: "=", count: 50))
        return lines.joined(separator: "\n")
    }

    /// Every figure as JSON: vLLM's result keys (`duration`, `completed`, `request_goodput`,
    /// `mean_ttft_ms`, `p99_itl_ms`, … and per request `input_lens`, `output_lens`, `ttfts`,
    /// `itls` in seconds, `errors`), the same statistics nested (`ttft_ms: {mean, median, std,
    /// p90, p99}`), and the run's settings when set.
    public func json() throws -> Data {
        var out: [String: Any] = [
            "completed": completed, "failed": failed, "duration": durationSeconds, "duration_seconds": durationSeconds,
            "total_input_tokens": totalInputTokens, "total_output_tokens": totalOutputTokens,
            "request_throughput": requestThroughput, "output_throughput": outputThroughput,
            "total_token_throughput": totalTokenThroughput, "request_goodput": requestGoodput ?? NSNull(),
            "input_lens": results.map(\.promptTokens), "output_lens": results.map(\.outputTokens),
            "ttfts": results.map(\.ttft), "itls": results.map(\.itls), "errors": results.map { $0.error ?? "" },
        ]
        var goodput: [String: Any] = [:]
        if let sloTTFTms { goodput["ttft"] = sloTTFTms }
        if let sloTPOTms { goodput["tpot"] = sloTPOTms }
        out["goodput"] = goodput.isEmpty ? NSNull() : goodput
        for (name, stats) in [("ttft", ttftMs), ("tpot", tpotMs), ("itl", itlMs), ("e2el", e2elMs)] {
            out["\(name)_ms"] = ["mean": stats.mean, "median": stats.median, "std": stats.std, "p90": stats.p90, "p99": stats.p99]
            out["mean_\(name)_ms"] = stats.mean
            out["median_\(name)_ms"] = stats.median
            out["std_\(name)_ms"] = stats.std
            out["p90_\(name)_ms"] = stats.p90
            out["p99_\(name)_ms"] = stats.p99
        }
        if let settings {
            out["url"] = settings.url
            out["model_id"] = settings.model
            out["dataset"] = settings.dataset
            out["num_prompts"] = settings.numPrompts
            out["max_concurrency"] = settings.maxConcurrency
            out["request_rate"] = settings.requestRate.isFinite ? settings.requestRate as Any : "inf"
            out["seed"] = settings.seed
        }
        return try JSONSerialization.data(withJSONObject: out, options: [.prettyPrinted, .sortedKeys])
    }
}
