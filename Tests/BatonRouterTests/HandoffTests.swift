// One proxy path: a request the fast lane hands to the slow path is decoded, tokenized and
// decided once (Handoff.swift), and both lanes mark and end their answers alike
// (RelayPolicy.swift).

import AsyncHTTPClient
import BatonModel
import BatonOpenAI
import BatonRouter
import BatonTesting
import Foundation
import NIOCore
import Synchronization
import Testing

/// ByteTokenizer that counts its calls, on either lane.
final class CountingTokenizer: LocalTokenizing {
    let calls = Mutex(0)

    func tokens(_ source: PromptFields.Source) -> [Int32] {
        var none = BPECache(capacity: 0)
        return tokensNow(source, cache: &none)
    }

    func tokensNow(_ source: PromptFields.Source, cache: inout BPECache) -> [Int32] {
        calls.withLock { $0 += 1 }
        return ByteTokenizer().tokensNow(source, cache: &cache)
    }
}

@Suite struct HandoffTests {
    static let long = String(repeating: "a", count: 300)

    /// A split, a split whose prefill fails (the local fallback) and a rejection each go
    /// through the fast lane to the slow path: one tokenizer call and one decision per request.
    @Test func aHandedOverRequestIsTokenizedAndDecidedOnce() async throws {
        let p = try await FakeUpstream.start { r in
            (r.json?["prompt"] as? String)?.hasPrefix("b") == true
                ? .json(status: 500, body: Data("{}".utf8)) : .json(status: 200, body: completionJSON("x", kv: prefillParams))
        }
        let d = try await FakeUpstream.start { _ in .json(status: 200, body: completionJSON("decoded")) }
        let tokenizer = CountingTokenizer()
        let router = try await LiveRouter.start(prefill: [p.url], decode: [d.url], tokenizer: tokenizer) { $0.prefillTries = 1 }
        defer { Task { await router.stop(); p.stop(); d.stop() } }
        let split = try await router.post("/v1/completions", #"{"prompt":"\#(Self.long)"}"#)
        #expect(split.status == 200 && split.headers["x-baton-route"] == "split")
        #expect(tokenizer.calls.withLock { $0 } == 1, "tokenized again by the slow path")
        let fallback = try await router.post("/v1/completions", #"{"prompt":"\#(String(repeating: "b", count: 300))"}"#)
        #expect(fallback.status == 200 && fallback.headers["x-baton-route"] == "local")
        #expect(tokenizer.calls.withLock { $0 } == 2)
        let short = try await router.post("/v1/completions", #"{"prompt":"hi"}"#)
        #expect(short.status == 200 && short.headers["x-baton-route"] == "local")
        #expect(tokenizer.calls.withLock { $0 } == 3)
        let m = router.metrics()
        #expect(m.contains(#"baton_router_decisions_total{path="split",reason="long_prompt"} 1"#), "\(m)")
        #expect(m.contains(#"baton_router_decisions_total{path="local",reason="prefill_failed"} 1"#))
        #expect(m.contains("baton_router_fast_lane_total 1"))
        #expect(router.core.members().allSatisfy { $0.member.inFlight == 0 })
    }

    /// Splits of distinct prompts take turns between two tied decodes: each is decided once,
    /// so it takes one turn (decided by the lane and again by the slow path, every split went
    /// to the same decode).
    @Test func splitsThroughTheFastLaneTakeTurnsAmongTiedDecodes() async throws {
        let p = try await FakeUpstream.start { _ in .json(status: 200, body: completionJSON("x", kv: prefillParams)) }
        let d1 = try await FakeUpstream.start { _ in .json(status: 200, body: completionJSON("one")) }
        let d2 = try await FakeUpstream.start { _ in .json(status: 200, body: completionJSON("two")) }
        let router = try await LiveRouter.start(prefill: [p.url], decode: [d1.url, d2.url])
        defer { Task { await router.stop(); p.stop(); d1.stop(); d2.stop() } }
        for i in 0..<4 {
            let a = try await router.post("/v1/completions", #"{"prompt":"\#(String(repeating: "\(i)", count: 300))"}"#)
            #expect(a.status == 200 && a.headers["x-baton-route"] == "split")
        }
        #expect(d1.received.count == 2 && d2.received.count == 2)
    }

    /// The same answer from either lane for a stream its decode cuts: the route headers and
    /// the SSE error event byte for byte, and the same request count.
    @Test func bothLanesMarkAndEndAnAnswerAlike() async throws {
        let d = try await FakeUpstream.start { _ in .streamThenCut(first: "data: {\"n\":1}\n\n") }
        var answers: [(headers: [String: String], body: String)] = []
        for fastLane in [true, false] {
            let router = try await LiveRouter.start(prefill: [], decode: [d.url]) { $0.fastLane = fastLane }
            let a = try await router.post("/v1/completions", #"{"prompt":"hi","stream":true}"#)
            #expect(a.status == 200)
            answers.append((a.headers.filter { $0.key.hasPrefix("x-baton-") || $0.key == "content-type" || $0.key == "cache-control" }, a.body))
            #expect(router.metrics().contains(#"baton_router_requests_total{path="local",code="200"} 1"#))
            #expect(router.metrics().contains("baton_router_fast_lane_total \(fastLane ? 1 : 0)"))
            await router.stop()
        }
        d.stop()
        #expect(answers[0].headers == answers[1].headers && answers[0].headers["x-baton-route"] == "local")
        #expect(answers[0].body == answers[1].body, "\(answers.map(\.body))")
        #expect(answers[0].body.hasPrefix("data: {\"n\":1}\n\ndata: {\"error\":") && answers[0].body.hasSuffix("data: [DONE]\n\n"))
    }
}
