// `baton bench`'s client: the SSE reader across chunk boundaries, and runs against a fake engine
// that streams, fails, cuts, or holds its answers (timing, token counts, failures, the
// concurrency cap past AsyncHTTPClient's default of 8 connections a host).

import BatonDeploy
import BatonTesting
import Foundation
import Synchronization
import Testing

private func chunk(_ text: String) -> String { "data: {\"choices\":[{\"index\":0,\"text\":\"\(text)\"}]}\n\n" }
private let usage = "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":3}}\n\n"
private let done = "data: [DONE]\n\n"

@Suite struct BenchClientTests {
    @Test func sseLinesSurviveAnyChunking() {
        let stream = "data: {\"a\":1}\n\ndata: {\"b\":2}\r\n\r\n: comment\nevent: x\ndata:[DONE]\n\n"
        let whole: [String] = { var r = SSEDataLines(); return r.feed(Array(stream.utf8)) }()
        #expect(whole == ["{\"a\":1}", "{\"b\":2}", "[DONE]"])
        let bytes = Array(stream.utf8)
        for size in 1...9 {
            var reader = SSEDataLines()
            var got: [String] = []
            for start in stride(from: 0, to: bytes.count, by: size) {
                got += reader.feed(bytes[start..<min(start + size, bytes.count)])
            }
            #expect(got == whole, "chunks of \(size) bytes")
        }
        var reader = SSEDataLines()
        let word = Array("data: {\"t\":\"é\"}\n".utf8)  // a two-byte character split across feeds
        #expect(reader.feed(word[..<13]).isEmpty && reader.feed(word[13...]) == ["{\"t\":\"é\"}"])
    }

    @Test func urlRootDropsV1() {
        #expect(BenchClient(url: "http://h:1/v1/", model: "m", apiKey: nil).url == "http://h:1")
        #expect(BenchClient(url: "http://h:1", model: "m", apiKey: nil).url == "http://h:1")
    }

    @Test func aRunCountsWhatItStreamed() async throws {
        let fake = try await FakeUpstream.start { request in
            switch request.json?["prompt"] as? String {
            case "fail": return .json(status: 400, body: Data("{\"error\":{\"message\":\"bad\"}}".utf8))
            case "error event": return .stream(chunks: [chunk("a"), "data: {\"error\":{\"message\":\"engine died\"}}\n\n", done])
            case "cut": return .streamThenCut(first: chunk("a"))
            case "no done": return .stream(chunks: [chunk("a"), chunk("b")])
            case "no usage": return .stream(chunks: [chunk("a"), chunk(""), chunk("c"), chunk("d"), done])
            default: return .stream(chunks: [chunk("a"), chunk("b"), chunk("c"), usage, done])
            }
        }
        defer { fake.stop() }
        #expect(try await BenchClient.firstModel(url: fake.url + "/v1", apiKey: nil) == "smollm2")
        let client = BenchClient(url: fake.url, model: "smollm2", apiKey: "k")
        let prompts = ["x", "fail", "error event", "cut", "no done", "no usage"].map {
            BenchPrompt(prompt: $0, outputTokens: 3, estimatedPromptTokens: $0 == "no usage" ? 11 : nil)
        }
        let (results, duration) = await client.runAll(prompts, arrivals: Array(repeating: 0, count: prompts.count), maxConcurrency: 2)
        #expect(results.map(\.success) == [true, false, false, false, false, true] && duration > 0)
        #expect(results[0].promptTokens == 7 && results[0].outputTokens == 3 && results[0].itls.count == 2)
        #expect(results[0].ttft > 0 && results[0].latency >= results[0].ttft)
        #expect(results[1].error?.hasPrefix("HTTP 400") == true)
        #expect(results[2].error == "stream error: engine died")
        #expect(results[3].error != nil && results[4].error == "the stream ended without [DONE]")
        // No usage: every chunk with a choice is a token (an empty text too, as vLLM counts it),
        // and the prompt's own estimate stands for its length.
        #expect(results[5].outputTokens == 4 && results[5].itls.count == 3 && results[5].promptTokens == 11)
        let sent = try #require(fake.received.first?.json)
        #expect(sent["stream"] as? Bool == true && sent["max_tokens"] as? Int == 3 && sent["ignore_eos"] as? Bool == true)
        #expect((sent["stream_options"] as? [String: Bool]) == ["include_usage": true] && sent["temperature"] as? Int == 0)
        #expect(sent["model"] as? String == "smollm2" && fake.received.first?.headers["authorization"] == "Bearer k")
    }

    @Test func anUnreachableServerFailsEveryRequestWithoutThrowing() async throws {
        let fake = try await FakeUpstream.start { _ in .json(status: 200, body: Data()) }
        let url = fake.url
        await fake.stopAndWait()
        await #expect(throws: BenchWorkloadError.self) { try await BenchClient.firstModel(url: url, apiKey: nil) }
        let (results, _) = await BenchClient(url: url, model: "m", apiKey: nil)
            .runAll([BenchPrompt(prompt: "x", outputTokens: 1)], arrivals: [0], maxConcurrency: 1)
        #expect(results.count == 1 && !results[0].success && results[0].error != nil)
    }

    /// E2E ends at the last chunk carrying a choice: the usage chunk and `[DONE]`, held back
    /// here for 600 ms, do not count, as in vLLM.
    @Test func latencyEndsAtTheLastToken() async throws {
        let fake = try await FakeUpstream.start { _ in
            let (gate, open) = AsyncStream<Void>.makeStream()
            Task {
                for ms in [100, 100, 600, 0] {
                    try await Task.sleep(for: .milliseconds(ms))
                    open.yield()
                }
            }
            return .stream(chunks: [chunk("a"), chunk("b"), chunk("c"), usage, done], release: gate)
        }
        defer { fake.stop() }
        let (results, duration) = await BenchClient(url: fake.url, model: "m", apiKey: nil)
            .runAll([BenchPrompt(prompt: "x", outputTokens: 3)], arrivals: [0], maxConcurrency: 1)
        let r = results[0]
        #expect(r.success && r.itls.count == 2)
        // No wall-clock bounds (the machine is shared): E2E is the last token's time exactly when
        // it equals TTFT plus the gaps; counted at [DONE] it would also hold the 600 ms wait.
        #expect(abs(r.latency - r.ttft - r.itls.reduce(0, +)) < 1e-6, "E2E − TTFT \(r.latency - r.ttft) s, gaps \(r.itls)")
        #expect(duration > r.latency, "the run waited for [DONE]")
        #expect(abs(r.tpot! - (r.latency - r.ttft) / 2) < 1e-12)
    }

    /// Holds every stream after its first chunk until `open()`; counts requests as they come.
    final class Gates: Sendable {
        let state = Mutex<(open: Bool, waiting: [AsyncStream<Void>.Continuation])>((false, []))

        func make() -> AsyncStream<Void> {
            let (stream, continuation) = AsyncStream<Void>.makeStream()
            state.withLock { s in
                if s.open { continuation.finish() } else { s.waiting.append(continuation) }
            }
            return stream
        }

        func open() {
            for c in state.withLock({ s in s.open = true; return s.waiting }) { c.finish() }
        }
    }

    @Test(arguments: [3, 12])
    func maxConcurrencyCapsTheRequestsInFlight(cap: Int) async throws {
        let gates = Gates()
        let fake = try await FakeUpstream.start { _ in .stream(chunks: [chunk("a"), chunk("b"), usage, done], release: gates.make()) }
        defer { fake.stop() }
        let client = BenchClient(url: fake.url, model: "m", apiKey: nil)
        let prompts = Array(repeating: BenchPrompt(prompt: "x", outputTokens: 2), count: 16)
        async let run = client.runAll(prompts, arrivals: Array(repeating: 0, count: 16), maxConcurrency: cap)
        let deadline = ContinuousClock.now + .seconds(60)  // a bound on waiting, not a timed assertion
        while fake.received.count < cap, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        try await Task.sleep(for: .milliseconds(300))
        #expect(fake.received.count == cap, "\(cap) in flight, all held: no more sent, and none queued in the client")
        gates.open()
        let (results, _) = await run
        #expect(results.allSatisfy(\.success) && fake.received.count == 16)
    }
}
