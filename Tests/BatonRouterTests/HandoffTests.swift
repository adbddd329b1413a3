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

    /// Splits of distinct prompts take turns among tied decodes, each decode the same number:
    /// a split is decided once, and its prefill pick does not take the decodes' turn. With two
    /// decodes this fails if the rotation moves twice per split (decided twice, or one counter
    /// shared by the roles); with three, if it moves three times (decided by the lane and again
    /// by the slow path on one shared counter, as before): every split went to the same decode.
    @Test(arguments: [2, 3]) func splitsThroughTheFastLaneTakeTurnsAmongTiedDecodes(decodes: Int) async throws {
        let p = try await FakeUpstream.start { _ in .json(status: 200, body: completionJSON("x", kv: prefillParams)) }
        var ds: [FakeUpstream] = []
        for i in 0..<decodes { ds.append(try await FakeUpstream.start { _ in .json(status: 200, body: completionJSON("d\(i)")) }) }
        let router = try await LiveRouter.start(prefill: [p.url], decode: ds.map(\.url))
        defer { Task { [ds] in await router.stop(); p.stop(); ds.forEach { $0.stop() } } }
        for i in 0..<(2 * decodes) {
            let a = try await router.post("/v1/completions", #"{"prompt":"\#(String(repeating: "\(i)", count: 300))"}"#)
            #expect(a.status == 200 && a.headers["x-baton-route"] == "split")
        }
        #expect(ds.map(\.received.count) == Array(repeating: 2, count: decodes))
    }

    /// A pipelined request behind one Hummingbird answers itself (a 401: two `Authorization`
    /// fields, joined by Hummingbird, where the lane once checked only the first and handed the
    /// split over) is answered for its own body, even when it names the lane's first handoff in
    /// an `x-baton-handoff` of its own; and no engine sees that header.
    @Test func aPipelinedRequestBehindA401IsAnsweredForItsOwnBody() async throws {
        let p = try await FakeUpstream.start { _ in .json(status: 200, body: completionJSON("x", kv: prefillParams)) }
        let d = try await FakeUpstream.start { r in .json(status: 200, body: completionJSON("answer-\((r.json?["prompt"] as? String) ?? "")")) }
        let router = try await LiveRouter.start(prefill: [p.url], decode: [d.url]) { $0.apiKeys = ["k"] }
        defer { Task { await router.stop(); p.stop(); d.stop() } }
        func request(_ prompt: String, _ headers: String) -> String {
            let body = #"{"prompt":"\#(prompt)"}"#
            return "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\(headers)"
                + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
        }
        let twoKeys = "Authorization: Bearer k\r\nAuthorization: Bearer other\r\n"
        var n = 0
        for injected in ["", "x-baton-handoff: 1\r\n"] {
            for _ in 0..<4 {
                n += 1  // a prompt no decode holds: a split, which the lane once handed over
                let raw = try await RawHTTP.exchange(
                    port: router.port,
                    send: request("\(n)" + Self.long, twoKeys) + request("second", "Authorization: Bearer k\r\n\(injected)"),
                    until: "answer-")
                let unauthorized = try #require(raw.range(of: "HTTP/1.1 401"), "\(raw)")
                let answer = try #require(raw.range(of: "answer-"), "\(raw)")
                #expect(unauthorized.upperBound <= answer.lowerBound && raw[answer.upperBound...].hasPrefix("second"), "\(raw)")
            }
        }
        // A prompt the decode now holds is the local path by choice, which the lane once relayed
        // itself for the first key: a 401 as well.
        let cached = try await RawHTTP.exchange(port: router.port, send: request("\(n)" + Self.long, twoKeys), until: "}")
        #expect(cached.hasPrefix("HTTP/1.1 401"), "\(cached)")
        let split = try await router.post(
            "/v1/completions", #"{"prompt":"\#(Self.long)"}"#, headers: [("Authorization", "Bearer k"), ("x-baton-handoff", "1")])
        #expect(split.status == 200 && split.headers["x-baton-route"] == "split")
        #expect((p.received + d.received).allSatisfy { $0.headers["x-baton-handoff"] == nil })
        #expect(router.core.members().allSatisfy { $0.member.inFlight == 0 }, "a handoff nobody took is released")
    }

    /// A fast-lane relay whose decode fails before its first byte is decided again by the slow
    /// path as a retry: one decision, one `splitsWithoutPrefill`, one retry.
    @Test func aFailedFastLaneRelayIsDecidedAgainAsARetry() async throws {
        let calls = Mutex(0)
        let reply: @Sendable (FakeUpstream.Received) async -> FakeUpstream.Reply = { _ in
            calls.withLock { $0 += 1; return $0 } == 1
                ? .json(status: 500, body: Data("{}".utf8)) : .json(status: 200, body: completionJSON("ok"))
        }
        let d1 = try await FakeUpstream.start(reply), d2 = try await FakeUpstream.start(reply)
        // No prefill pool: a long prompt is local by choice, and counts as a split without one.
        let router = try await LiveRouter.start(prefill: [], decode: [d1.url, d2.url])
        defer { Task { await router.stop(); d1.stop(); d2.stop() } }
        let a = try await router.post("/v1/completions", #"{"prompt":"\#(Self.long)"}"#)
        #expect(a.status == 200 && a.headers["x-baton-route"] == "local")
        #expect(d1.received.count + d2.received.count == 2)
        let m = router.metrics()
        #expect(m.contains("baton_router_fast_lane_total 1"), "\(m)")
        #expect(m.contains(#"baton_router_decisions_total{path="local",reason="no_prefill_pool"} 1"#), "\(m)")
        #expect(m.contains(#"baton_router_retries_total{role="decode"} 1"#), "\(m)")
        #expect(router.core.splitsWithoutPrefill() == 1)
        // The prefix ratio counted the first request once: a second, fully held, makes it 1/2.
        let b = try await router.post("/v1/completions", #"{"prompt":"\#(Self.long)"}"#)
        #expect(b.status == 200)
        #expect(router.metrics().contains("baton_router_prefix_hit_ratio 0.5"), "\(router.metrics())")
    }

    /// A retry that finds no prefill for its new decode counts as a split without one when the
    /// lane's own decision did not: the lane took the cached prefix on d1 (local by choice), d1
    /// failed before its first byte, and d2 lacks the prefix with no prefill pool to split to.
    /// That is the autoscaler's signal to scale the prefill pool up from zero.
    @Test func aRetryWithoutAPrefillIsCountedWhenTheLanesDecisionWasNot() async throws {
        let calls = Mutex(0)
        let reply: @Sendable (FakeUpstream.Received) async -> FakeUpstream.Reply = { _ in
            calls.withLock { $0 += 1; return $0 } == 2
                ? .json(status: 500, body: Data("{}".utf8)) : .json(status: 200, body: completionJSON("ok"))
        }
        let d1 = try await FakeUpstream.start(reply), d2 = try await FakeUpstream.start(reply)
        let router = try await LiveRouter.start(prefill: [], decode: [d1.url, d2.url])
        defer { Task { await router.stop(); d1.stop(); d2.stop() } }
        let a = try await router.post("/v1/completions", #"{"prompt":"\#(Self.long)"}"#)
        #expect(a.status == 200 && router.core.splitsWithoutPrefill() == 1)
        // The same prompt: its decode holds the prefix (cached_prefix), fails, and the retry's
        // decode does not (no_prefill_pool, counted).
        let b = try await router.post("/v1/completions", #"{"prompt":"\#(Self.long)"}"#)
        #expect(b.status == 200 && d1.received.count + d2.received.count == 3)
        let m = router.metrics()
        #expect(m.contains(#"baton_router_decisions_total{path="local",reason="cached_prefix"} 1"#), "\(m)")
        #expect(m.contains(#"baton_router_retries_total{role="decode"} 1"#), "\(m)")
        #expect(router.core.splitsWithoutPrefill() == 2)
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
