// `baton bench`'s pieces: vLLM's metric definitions on hand-made results, numpy's percentiles,
// the SSE reader across chunk boundaries, the workloads, and one run against a fake engine.

import BatonDeploy
import BatonTesting
import Foundation
import Testing

@Suite struct BenchTests {
    @Test func percentilesInterpolateAsNumpy() {
        let xs: [Double] = [1, 2, 3, 4, 10]
        // numpy.percentile([1,2,3,4,10], [50, 90, 99]) == [3.0, 7.6, 9.76]
        #expect(percentile(xs, 50) == 3)
        #expect(abs(percentile(xs, 90) - 7.6) < 1e-12 && abs(percentile(xs, 99) - 9.76) < 1e-12)
        #expect(percentile([5], 99) == 5 && percentile([], 50) == 0)
        let s = LatencyStats(seconds: [0.001, 0.003])
        #expect(s.mean == 2 && s.median == 2 && s.std == 1 && abs(s.p99 - 2.98) < 1e-9)
    }

    @Test func summaryUsesVLLMsDefinitions() {
        let results = [
            // 11 tokens: TPOT (1.1 − 0.1) / 10 = 0.1 s; its ITLs pooled with the next one's.
            BenchRequestResult(success: true, promptTokens: 100, outputTokens: 11, ttft: 0.1, itls: [0.05, 0.15], latency: 1.1),
            // 1 token: no TPOT sample; for goodput its TPOT is 0.
            BenchRequestResult(success: true, promptTokens: 50, outputTokens: 1, ttft: 0.5, itls: [], latency: 0.5),
            // 3 tokens, TPOT (0.9 − 0.3) / 2 = 0.3 s.
            BenchRequestResult(success: true, promptTokens: 10, outputTokens: 3, ttft: 0.3, itls: [0.3, 0.3], latency: 0.9),
            .failed("HTTP 503", latency: 0.01),
        ]
        let s = BenchSummary(results: results, duration: 2, sloTTFTms: 400, sloTPOTms: 200)
        #expect(s.completed == 3 && s.failed == 1 && s.errors == ["HTTP 503"])
        #expect(s.totalInputTokens == 160 && s.totalOutputTokens == 15)
        #expect(s.requestThroughput == 1.5 && s.outputThroughput == 7.5 && s.totalTokenThroughput == 87.5)
        #expect(abs(s.tpotMs.mean - 200) < 1e-9, "TPOTs 100 and 300 ms; the 1-token request has none")
        #expect(abs(s.ttftMs.median - 300) < 1e-9 && abs(s.itlMs.mean - 200) < 1e-9 && s.e2elMs.median == 900)
        // Good: the first (TTFT 100 ≤ 400, TPOT 100 ≤ 200). Not: the second (TTFT 500), the third (TPOT 300).
        #expect(s.requestGoodput == 0.5)
        #expect(BenchSummary(results: results, duration: 2).requestGoodput == nil)
        #expect(BenchSummary(results: results, duration: 2, sloTTFTms: 600).requestGoodput == 1.5, "only a TTFT SLO: all three")
        #expect(s.table.contains("Request goodput (req/s):                0.50"))
    }

    @Test func sseLinesSurviveAnyChunking() {
        let stream = "data: {\"a\":1}\n\ndata: {\"b\":2}\r\n\r\n: comment\ndata: [DONE]\n\n"
        let whole: [String] = { var r = SSEDataLines(); return r.feed(Array(stream.utf8)) }()
        #expect(whole == ["{\"a\":1}", "{\"b\":2}", "[DONE]"])
        for size in 1...7 {
            var reader = SSEDataLines()
            var got: [String] = []
            let bytes = Array(stream.utf8)
            for start in stride(from: 0, to: bytes.count, by: size) {
                got += reader.feed(bytes[start..<min(start + size, bytes.count)])
            }
            #expect(got == whole, "chunks of \(size) bytes")
        }
    }

    @Test func workloads() throws {
        let a = BenchWorkload.random(count: 3, inputTokens: 20, outputTokens: 7, seed: 1)
        #expect(a == BenchWorkload.random(count: 3, inputTokens: 20, outputTokens: 7, seed: 1))
        #expect(a != BenchWorkload.random(count: 3, inputTokens: 20, outputTokens: 7, seed: 2))
        #expect(a.allSatisfy { $0.outputTokens == 7 && $0.prompt.split(separator: " ").count == 19 })
        #expect(Set(a.map { $0.prompt.prefix(3) }).count == 3, "distinct first words: no shared prefix")
        let file = try BenchWorkload.jsonl("{\"prompt\": \"hi\", \"output_len\": 5}\n\n{\"prompt\": \"yo\"}\n", defaultOutputTokens: 9)
        #expect(file == [BenchPrompt(prompt: "hi", outputTokens: 5), BenchPrompt(prompt: "yo", outputTokens: 9)])
        for (bad, line) in [("{\"prompt\": \"a\"}\n[1]", 2), ("{\"prompt\": 3}", 1), ("{\"prompt\": \"a\", \"output_len\": 0}", 1),
                            ("{\"prompt\": \"a\", \"output_len\": 1.5}", 1), ("{\"prompt\": \"\"}", 1)] {
            #expect(throws: BenchWorkloadError.self) { try BenchWorkload.jsonl(bad, defaultOutputTokens: 1) }
            let message = (try? BenchWorkload.jsonl(bad, defaultOutputTokens: 1)).map { "\($0)" } ?? {
                do { _ = try BenchWorkload.jsonl(bad, defaultOutputTokens: 1); return "" } catch { return "\(error)" }
            }()
            #expect(message.hasPrefix("line \(line):"), "\(message)")
        }
        #expect(throws: BenchWorkloadError.self) { try BenchWorkload.jsonl("\n \n", defaultOutputTokens: 1) }
        #expect(BenchWorkload.arrivals(count: 3, rate: .infinity, seed: 0) == [0, 0, 0])
        let poisson = BenchWorkload.arrivals(count: 2000, rate: 4, seed: 3)
        #expect(poisson == BenchWorkload.arrivals(count: 2000, rate: 4, seed: 3) && poisson.first == 0)
        #expect(zip(poisson, poisson.dropFirst()).allSatisfy { $0 <= $1 })
        let meanGap = poisson.last! / Double(poisson.count - 1)
        #expect(abs(meanGap - 0.25) < 0.03, "mean gap \(meanGap) s at 4 requests/s")
    }

    @Test func aRunAgainstAFakeEngineCountsWhatItStreamed() async throws {
        let chunks = ["a", "b", "c"].map { "data: {\"choices\":[{\"index\":0,\"text\":\"\($0)\"}]}\n\n" }
        let fake = try await FakeUpstream.start { request in
            if request.json?["prompt"] as? String == "fail" { return .json(status: 400, body: Data("{\"error\":{\"message\":\"bad\"}}".utf8)) }
            return .stream(chunks: chunks + [
                                    "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":3}}\n\n", "data: [DONE]\n\n"])
        }
        defer { fake.stop() }
        #expect(try await BenchClient.firstModel(url: fake.url, apiKey: nil) == "smollm2")
        let client = BenchClient(url: fake.url, model: "smollm2", apiKey: "k")
        let prompts = [BenchPrompt(prompt: "x", outputTokens: 3), BenchPrompt(prompt: "fail", outputTokens: 3), BenchPrompt(prompt: "y", outputTokens: 3)]
        let (results, duration) = await client.runAll(prompts, arrivals: [0, 0, 0], maxConcurrency: 2)
        #expect(results.map(\.success) == [true, false, true] && duration > 0)
        #expect(results[0].promptTokens == 7 && results[0].outputTokens == 3 && results[0].itls.count == 2)
        #expect(results[0].ttft > 0 && results[0].latency >= results[0].ttft)
        #expect(results[1].error?.hasPrefix("HTTP 400") == true)
        let sent = try #require(fake.received.first?.json)
        #expect(sent["stream"] as? Bool == true && sent["max_tokens"] as? Int == 3 && sent["ignore_eos"] as? Bool == true)
        #expect(fake.received.first?.headers["authorization"] == "Bearer k")
    }
}
