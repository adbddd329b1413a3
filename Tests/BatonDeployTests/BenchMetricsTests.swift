// `baton bench`'s figures on hand-made results: vLLM's definitions (TPOT per request without
// one-token requests, pooled ITL, goodput), numpy's percentiles, the table and the JSON.

import BatonDeploy
import Foundation
import Testing

@Suite struct BenchMetricsTests {
    /// 11 tokens: TPOT (1.1 − 0.1) ÷ 10 = 100 ms; 1 token: no TPOT (0 for goodput); 3 tokens:
    /// TPOT (0.9 − 0.3) ÷ 2 = 300 ms; one failure.
    static let results = [
        BenchRequestResult(success: true, promptTokens: 100, outputTokens: 11, ttft: 0.1, itls: [0.05, 0.15], latency: 1.1),
        BenchRequestResult(success: true, promptTokens: 50, outputTokens: 1, ttft: 0.5, itls: [], latency: 0.5),
        BenchRequestResult(success: true, promptTokens: 10, outputTokens: 3, ttft: 0.3, itls: [0.3, 0.3], latency: 0.9),
        .failed("HTTP 503", latency: 0.01),
    ]

    static func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) < 1e-9 }

    @Test func percentilesInterpolateAsNumpy() {
        // numpy.percentile([1, 2, 3, 4, 10], [50, 90, 99]) == [3.0, 7.6, 9.76]; numpy.std == √10
        let xs: [Double] = [1, 2, 3, 4, 10]
        #expect(percentile(xs, 50) == 3 && Self.close(percentile(xs, 90), 7.6) && Self.close(percentile(xs, 99), 9.76))
        #expect(percentile([5], 99) == 5 && percentile([], 50) == 0 && percentile(xs, 0) == 1 && percentile(xs, 100) == 10)
        let s = LatencyStats(seconds: xs.map { $0 / 1000 })
        #expect(Self.close(s.mean, 4) && Self.close(s.std, 10.0.squareRoot()) && Self.close(s.p90, 7.6))
        #expect(LatencyStats(seconds: []) == LatencyStats(mean: 0, median: 0, std: 0, p90: 0, p99: 0))
    }

    @Test func summaryUsesVLLMsDefinitions() {
        let s = BenchSummary(results: Self.results, duration: 2)
        #expect(s.completed == 3 && s.failed == 1 && s.errors == ["HTTP 503"])
        #expect(s.totalInputTokens == 160 && s.totalOutputTokens == 15, "the failure's tokens are not counted")
        #expect(s.requestThroughput == 1.5 && s.outputThroughput == 7.5 && s.totalTokenThroughput == 87.5)
        // TTFT over the 3 successes: [100, 300, 500] ms.
        #expect(Self.close(s.ttftMs.mean, 300) && Self.close(s.ttftMs.median, 300))
        #expect(Self.close(s.ttftMs.p90, 460) && Self.close(s.ttftMs.p99, 496) && Self.close(s.ttftMs.std, (80_000.0 / 3).squareRoot()))
        // TPOT: [100, 300] ms; the 1-token request has none.
        #expect(Self.close(s.tpotMs.mean, 200) && Self.close(s.tpotMs.median, 200) && Self.close(s.tpotMs.p90, 280) && Self.close(s.tpotMs.p99, 298))
        // ITL: every gap pooled, [50, 150, 300, 300] ms (numpy: median 225, std 106.066…).
        #expect(Self.close(s.itlMs.mean, 200) && Self.close(s.itlMs.median, 225) && Self.close(s.itlMs.p99, 300))
        #expect(abs(s.itlMs.std - 106.06601717798213) < 1e-9)
        // E2E: [1100, 500, 900] ms.
        #expect(Self.close(s.e2elMs.median, 900) && Self.close(s.e2elMs.mean, 2500.0 / 3))
        #expect(Self.results.map(\.tpot) == [(1.1 - 0.1) / 10, nil, (0.9 - 0.3) / 2, nil])
    }

    @Test func goodputCountsRequestsMeetingEverySLO() {
        let both = BenchSummary(results: Self.results, duration: 2, sloTTFTms: 400, sloTPOTms: 200)
        // Good: the first (TTFT 100 ≤ 400, TPOT 100 ≤ 200). Not: the second (TTFT 500), the third (TPOT 300).
        #expect(both.requestGoodput == 0.5)
        #expect(BenchSummary(results: Self.results, duration: 2).requestGoodput == nil, "no SLO, no goodput")
        #expect(BenchSummary(results: Self.results, duration: 2, sloTTFTms: 600).requestGoodput == 1.5, "TTFT only: all three")
        // TPOT only: the 1-token request's TPOT is 0, so it is good; the failure never is.
        #expect(BenchSummary(results: Self.results, duration: 2, sloTPOTms: 150).requestGoodput == 1)
        // A value equal to its SLO meets it (the third's TTFT is 0.3 s).
        #expect(BenchSummary(results: Self.results, duration: 2, sloTTFTms: 300).requestGoodput == 1)
    }

    @Test func tableIsLaidOutAsVLLMs() {
        var s = BenchSummary(results: Self.results, duration: 2, sloTTFTms: 400, sloTPOTms: 200)
        s.settings = BenchSettings(url: "http://h:1", model: "m", dataset: "random", numPrompts: 4, maxConcurrency: 2, requestRate: 4, seed: 0)
        let lines = s.table.split(separator: "\n").map(String.init)
        #expect(lines.first == "============ Serving Benchmark Result ============" && lines.last == String(repeating: "=", count: 50))
        for expected in [
            "Successful requests:                     3", "Failed requests:                         1",
            "Maximum request concurrency:             2", "Request rate configured (RPS):           4.00",
            "Benchmark duration (s):                  2.00", "Total input tokens:                      160",
            "Total generated tokens:                  15", "Request throughput (req/s):              1.50",
            "Request goodput (req/s):                 0.50", "Output token throughput (tok/s):         7.50",
            "Total token throughput (tok/s):          87.50",
            "---------------Time to First Token----------------", "Mean TTFT (ms):                          300.00",
            "P90 TTFT (ms):                           460.00", "P99 TTFT (ms):                           496.00",
            "-----Time per Output Token (excl. 1st token)------", "Median TPOT (ms):                        200.00",
            "---------------Inter-token Latency----------------", "Median ITL (ms):                         225.00",
            "----------------End-to-end Latency----------------", "Median E2EL (ms):                        900.00",
        ] {
            #expect(lines.contains(expected), "\(expected)")
        }
        s.settings?.requestRate = .infinity
        #expect(!s.table.contains("Request rate configured"), "an infinite rate is not printed, as vLLM does")
        #expect(!BenchSummary(results: Self.results, duration: 2).table.contains("goodput"))
    }

    @Test func jsonCarriesVLLMsKeysAndNestedOnes() throws {
        var s = BenchSummary(results: Self.results, duration: 2, sloTTFTms: 400)
        s.settings = BenchSettings(url: "http://h:1", model: "m", dataset: "random", numPrompts: 4, maxConcurrency: 2, requestRate: .infinity, seed: 7)
        let json = try #require(try JSONSerialization.jsonObject(with: s.json()) as? [String: Any])
        #expect(json["completed"] as? Int == 3 && json["failed"] as? Int == 1 && json["duration"] as? Double == 2)
        #expect(json["request_goodput"] as? Double == 1 && (json["goodput"] as? [String: Double]) == ["ttft": 400])
        #expect(json["mean_ttft_ms"] as? Double == s.ttftMs.mean && json["p99_itl_ms"] as? Double == s.itlMs.p99)
        #expect(json["std_tpot_ms"] as? Double == s.tpotMs.std && json["median_e2el_ms"] as? Double == 900)
        #expect((json["ttft_ms"] as? [String: Double])?["p99"] == s.ttftMs.p99, "nested, as scripts read it")
        #expect(json["input_lens"] as? [Int] == [100, 50, 10, 0] && json["output_lens"] as? [Int] == [11, 1, 3, 0])
        #expect((json["itls"] as? [[Double]])?.map(\.count) == [2, 0, 2, 0] && json["errors"] as? [String] == ["", "", "", "HTTP 503"])
        #expect(json["request_rate"] as? String == "inf" && json["max_concurrency"] as? Int == 2 && json["model_id"] as? String == "m")
        let plain = try #require(try JSONSerialization.jsonObject(with: BenchSummary(results: Self.results, duration: 2).json()) as? [String: Any])
        #expect(plain["request_goodput"] is NSNull && plain["goodput"] is NSNull)
    }
}
