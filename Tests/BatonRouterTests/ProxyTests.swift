// The two-step proxy and its failure rules against fake engines on loopback: bodies, request
// ids, streaming without buffering, retries, fallbacks, pass-through errors, a cut stream.

import AsyncHTTPClient
import BatonOpenAI
import BatonRouter
import BatonTesting
import Foundation
import NIOCore
import Synchronization
import Testing

@Suite struct ProxyTests {
    static let long = String(repeating: "a", count: 300)

    @Test func splitDrivesPrefillThenDecodeWithOneRequestId() async throws {
        let p = try await FakeUpstream.start { _ in .json(status: 200, body: completionJSON("x", kv: prefillParams)) }
        let d = try await FakeUpstream.start { _ in .json(status: 200, body: completionJSON("decoded")) }
        let router = try await LiveRouter.start(prefill: [p.url], decode: [d.url])
        defer { Task { await router.stop(); p.stop(); d.stop() } }
        let answer = try await router.post(
            "/v1/completions", #"{"prompt":"\#(Self.long)","max_tokens":20,"kv_transfer_params":{"remote_block_ids":[1]}}"#,
            headers: [("X-Request-Id", "req-42")])
        #expect(answer.status == 200 && answer.body.contains("decoded"))
        #expect(answer.headers["x-request-id"] == "req-42")
        #expect(answer.headers["x-baton-route"] == "split" && answer.headers["x-baton-prefill"] == p.url)
        #expect(answer.headers["x-baton-decode"] == d.url)
        let pre = try #require(p.received.first), dec = try #require(d.received.first)
        #expect(pre.headers["x-request-id"] == "req-42" && dec.headers["x-request-id"] == "req-42")
        #expect(pre.json?["max_tokens"] as? Int == 1)
        #expect((pre.json?["kv_transfer_params"] as? [String: Any])?["do_remote_decode"] as? Bool == true)
        let kv = try #require(dec.json?["kv_transfer_params"] as? [String: Any])
        #expect(kv["transfer_mode"] as? String == "pull" && (kv["remote_block_ids"] as? [[Int]]) == [[4, 5]])
        #expect(dec.json?["max_tokens"] as? Int == 20)
        // Short: local, the client's body unchanged but for the stripped parameters.
        let short = try await router.post("/v1/completions", #"{"prompt":"hi","kv_transfer_params":{"remote_block_ids":[1]}}"#)
        #expect(short.status == 200 && short.headers["x-request-id"]?.count == 32)
        #expect(short.headers["x-baton-route"] == "local" && short.headers["x-baton-decode"] == d.url)
        #expect(short.headers["x-baton-prefill"] == nil)
        #expect(p.received.count == 1 && d.received.count == 2)
        #expect(d.received[1].json?["kv_transfer_params"] == nil)
        let m = router.metrics()
        #expect(m.contains(#"baton_router_decisions_total{path="split",reason="long_prompt"} 1"#))
        #expect(m.contains(#"baton_router_decisions_total{path="local",reason="short_prompt"} 1"#))
        #expect(m.contains(#"baton_router_requests_total{path="split",code="200"} 1"#))
    }

    /// An engine in both pools (one replica prefilling and decoding) has gauges per role: the
    /// router used to keep them by URL, so the decode's counts went to the prefill's gauges.
    @Test func anEngineInBothPoolsHasGaugesPerRole() async throws {
        let e = try await FakeUpstream.start { request in
            .json(status: 200, body: request.json?["max_tokens"] as? Int == 1 ? completionJSON("x", kv: prefillParams) : completionJSON("decoded"))
        }
        let router = try await LiveRouter.start(prefill: [e.url], decode: [e.url])
        defer { Task { await router.stop(); e.stop() } }
        let answer = try await router.post("/v1/completions", #"{"prompt":"\#(Self.long)","max_tokens":20}"#)
        #expect(answer.status == 200 && answer.headers["x-baton-route"] == "split")
        // name → value of both roles' gauges; the end of a request sets them just after the answer.
        func gauges() -> [String: Double] {
            var found: [String: Double] = [:]
            for line in router.metrics().split(separator: "\n") {
                for role in ["prefill", "decode"] {
                    for gauge in ["in_flight", "healthy"] where line.hasPrefix(#"baton_router_endpoint_\#(gauge){endpoint="\#(e.url)",role="\#(role)"} "#) {
                        found["\(role) \(gauge)"] = line.split(separator: " ").last.flatMap { Double($0) }
                    }
                }
            }
            return found
        }
        let want: [String: Double] = ["prefill in_flight": 0, "prefill healthy": 1, "decode in_flight": 0, "decode healthy": 1]
        var seen = gauges()
        for _ in 0..<100 where seen != want {
            try await Task.sleep(for: .milliseconds(20))
            seen = gauges()
        }
        #expect(seen == want)
    }

    @Test func theFirstEventReachesTheClientBeforeTheDecodeFinishes() async throws {
        let (release, open) = AsyncStream<Void>.makeStream()
        let d = try await FakeUpstream.start { _ in
            .stream(chunks: ["data: {\"n\":1}\n\n", "data: {\"n\":2}\n\n", "data: [DONE]\n\n"], release: release)
        }
        let router = try await LiveRouter.start(prefill: [], decode: [d.url])
        defer { Task { await router.stop(); d.stop() } }
        var request = HTTPClientRequest(url: router.url + "/v1/completions")
        request.method = .POST
        request.body = .bytes(ByteBuffer(string: #"{"prompt":"hi","stream":true}"#))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        var it = response.body.makeAsyncIterator()
        let first = try #require(try await it.next())
        #expect(String(buffer: first) == "data: {\"n\":1}\n\n", "the first event came while the decode still held the rest")
        open.yield()
        open.yield()
        var rest = ""
        while let chunk = try await it.next() { rest += String(buffer: chunk) }
        #expect(rest == "data: {\"n\":2}\n\ndata: [DONE]\n\n")
    }

    @Test func aDecodeThatFailsBeforeItsFirstByteIsRetriedElsewhere() async throws {
        let bad = try await FakeUpstream.start { _ in .json(status: 500, body: Data("{}".utf8)) }
        let good = try await FakeUpstream.start { _ in .json(status: 200, body: completionJSON("ok")) }
        let router = try await LiveRouter.start(prefill: [], decode: [bad.url, good.url])
        defer { Task { await router.stop(); bad.stop(); good.stop() } }
        for _ in 0..<4 {
            let a = try await router.post("/v1/completions", #"{"prompt":"hi"}"#)
            #expect(a.status == 200 && a.body.contains("ok") && a.headers["x-baton-decode"] == good.url)
        }
        #expect(bad.received.count == 1, "ejected after its one failure")
        #expect(router.metrics().contains(#"baton_router_retries_total{role="decode"} 1"#))
        #expect(router.core.members().first { $0.member.endpoint.url == bad.url }?.member.health != .healthy)
    }

    /// An engine that closes a kept-alive connection as a request arrives on it (uvicorn closes
    /// idle ones after 5 s) never read that request: it goes again on a new connection and does
    /// not count against the engine, on the local path (either lane) and on both calls of a split.
    @Test(arguments: [true, false]) func aRequestOnAConnectionTheEngineClosedIsSentAgain(fastLane: Bool) async throws {
        let p = try await ClosingUpstream.start(body: String(decoding: completionJSON("x", kv: prefillParams), as: UTF8.self), stream: "")
        let d = try await ClosingUpstream.start(
            body: String(decoding: completionJSON("ok"), as: UTF8.self), stream: "data: {\"n\":1}\n\ndata: [DONE]\n\n")
        let router = try await LiveRouter.start(prefill: [p.url], decode: [d.url]) { $0.fastLane = fastLane }
        defer { Task { await router.stop(); await p.stop(); await d.stop() } }
        for i in 0..<8 {
            // Long prompts that share no prefix, so that each is a split.
            let prompt = i < 4 ? "hi" : String(repeating: "\(i)", count: 300)
            let stream = i % 2 == 1
            let a = try await router.post("/v1/completions", #"{"prompt":"\#(prompt)","stream":\#(stream)}"#)
            #expect(a.status == 200, "request \(i): \(a.body)")
            #expect(a.body.contains(stream ? "[DONE]" : "ok") && a.headers["x-baton-route"] == (i < 4 ? "local" : "split"))
        }
        #expect(d.answered == 8 && p.answered == 4)
        #expect(d.closed >= 3 && p.closed >= 1, "kept-alive connections were reused and closed under requests")
        #expect(router.core.members().allSatisfy { $0.member.health == .healthy && $0.member.inFlight == 0 })
        #expect(router.metrics().contains("baton_router_fast_lane_total \(fastLane ? 4 : 0)"))
    }

    /// The fast lane's resend goes on a new connection, not on another idle one, which the
    /// engine may be closing too (uvicorn closes connections idle since the same burst at once).
    @Test(arguments: [true, false]) func theResendGoesOnANewConnection(fastLane: Bool) async throws {
        let d = try await ClosingUpstream.start(body: String(decoding: completionJSON("ok"), as: UTF8.self), stream: "", delay: .milliseconds(200))
        let router = try await LiveRouter.start(prefill: [], decode: [d.url]) { $0.fastLane = fastLane }
        defer { Task { await router.stop(); await d.stop() } }
        // Sent at once, they overlap: each event loop opens several engine connections, which are
        // then idle, each having answered one POST (the fake closes one on its second).
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<8 { group.addTask { try await router.post("/v1/completions", #"{"prompt":"hi"}"#).status } }
            for try await status in group { #expect(status == 200) }
        }
        for i in 0..<4 {
            let a = try await router.post("/v1/completions", #"{"prompt":"hi"}"#)
            #expect(a.status == 200 && a.body.contains("ok"), "request \(i): \(a.body)")
        }
        #expect(d.closed >= 4 && d.answered == 12)
        #expect(router.metrics().contains(#"baton_router_retries_total{role="decode"} 0"#), "a resend met another closing connection")
        #expect(router.core.members().allSatisfy { $0.member.health == .healthy })
    }

    @Test func aFailedPrefillFallsBackToTheLocalPath() async throws {
        let p = try await FakeUpstream.start { _ in .json(status: 503, body: Data("{}".utf8)) }
        let noParams = try await FakeUpstream.start { _ in .json(status: 200, body: completionJSON("x")) }
        let d = try await FakeUpstream.start { _ in .json(status: 200, body: completionJSON("local")) }
        let router = try await LiveRouter.start(prefill: [p.url, noParams.url], decode: [d.url])
        defer { Task { await router.stop(); p.stop(); noParams.stop(); d.stop() } }
        let a = try await router.post("/v1/completions", #"{"prompt":"\#(Self.long)"}"#)
        #expect(a.status == 200 && a.body.contains("local"))
        #expect(a.headers["x-baton-route"] == "local" && a.headers["x-baton-prefill"] == nil)
        #expect(p.received.count == 1 && noParams.received.count == 1, "both prefills tried once")
        #expect(d.received.first?.json?["kv_transfer_params"] == nil, "the decode prefilled it itself")
        let m = router.metrics()
        #expect(m.contains(#"baton_router_fallbacks_total{reason="prefill_failed"} 1"#))
        #expect(m.contains(#"baton_router_decisions_total{path="local",reason="prefill_failed"} 1"#))
        #expect(m.contains(#"baton_router_retries_total{role="prefill"} 1"#))
    }

    @Test(arguments: [false, true]) func aFallbackWaitsForRoomOnTheDecodeWhichAStreamingFallbackFrees(prefillDrained: Bool) async throws {
        // Two splits whose prefills fail together (or with the only prefill drained), one local
        // fallback allowed on the decode: the second waits (waitForDecode) rather than a 503, and
        // gets the room when the first sends its first byte, long before the first's stream ends.
        let p = try await FakeUpstream.start { _ in
            try? await Task.sleep(for: .milliseconds(300))  // both are in the prefill when it fails
            return .json(status: 500, body: Data("{}".utf8))
        }
        let (release, open) = AsyncStream<Void>.makeStream()
        let arrivals = Mutex(0)
        let d = try await FakeUpstream.start { _ in
            let n = arrivals.withLock { n in
                defer { n += 1 }
                return n
            }
            guard n == 0 else { return .stream(chunks: ["data: {\"n\":\"second\"}\n\n", "data: [DONE]\n\n"]) }
            try? await Task.sleep(for: .milliseconds(500))  // the second is refused meanwhile
            return .stream(chunks: ["data: {\"n\":\"first\"}\n\n", "data: [DONE]\n\n"], release: release)
        }
        let router = try await LiveRouter.start(prefill: [p.url], decode: [d.url]) {
            $0.prefillTries = 1
            $0.localFallbackMaxWaiting = 1
            $0.waitForDecode = .seconds(20)
        }
        defer { Task { await router.stop(); p.stop(); d.stop() } }
        if prefillDrained { router.core.drain(p.url) }
        // No shared prefix, so neither is cached on the decode when the other is recorded there.
        let (bodyA, bodyB) = (#"{"prompt":"\#(Self.long)","stream":true}"#, #"{"prompt":"\#(String(repeating: "b", count: 300))","stream":true}"#)
        let a = Task { try await router.post("/v1/completions", bodyA) }
        let b = Task { try await router.post("/v1/completions", bodyB) }
        let deadline = ContinuousClock.now + .seconds(10)
        while d.received.count < 2, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(d.received.count == 2, "the second reached the decode while the first still streamed")
        open.yield()
        let answers = [try await a.value, try await b.value]
        #expect(answers.map(\.status) == [200, 200], "\(answers)")
        #expect(answers.allSatisfy { $0.headers["x-baton-route"] == "local" && $0.body.hasSuffix("data: [DONE]\n\n") })
        #expect(answers.contains { $0.body.contains("first") } && answers.contains { $0.body.contains("second") })
        let reason = prefillDrained ? "no_prefill_healthy" : "prefill_failed"
        #expect(router.metrics().contains(#"baton_router_fallbacks_total{reason="\#(reason)"} 2"#))
        #expect(p.received.count == (prefillDrained ? 0 : 2))
        if prefillDrained { #expect(router.core.splitsWithoutPrefill() == 2, "each request counted once, not per wait") }
        let decode = try #require(router.core.members().first { $0.member.role == .decode }?.member)
        #expect(decode.inFlight == 0 && decode.fallbacksInFlight == 0)
    }

    @Test func aFailedSplitWhoseDecodeWentAwayFallsBackOnAnotherDecode() async throws {
        // The split's decode is drained while its prefill runs; when the prefill fails, the local
        // fallback goes to the other decode rather than a 503.
        let p = try await FakeUpstream.start { _ in
            try? await Task.sleep(for: .milliseconds(300))
            return .json(status: 500, body: Data("{}".utf8))
        }
        let d1 = try await FakeUpstream.start { _ in .json(status: 200, body: completionJSON("one")) }
        let d2 = try await FakeUpstream.start { _ in .json(status: 200, body: completionJSON("two")) }
        let router = try await LiveRouter.start(prefill: [p.url], decode: [d1.url, d2.url]) { $0.prefillTries = 1 }
        defer { Task { await router.stop(); p.stop(); d1.stop(); d2.stop() } }
        let answer = Task { try await router.post("/v1/completions", #"{"prompt":"\#(Self.long)"}"#) }
        var chosen: String?
        let deadline = ContinuousClock.now + .seconds(10)
        while chosen == nil, ContinuousClock.now < deadline {
            chosen = router.core.members().first { $0.member.role == .decode && $0.member.inFlight == 1 }?.member.endpoint.url
            if chosen == nil { try await Task.sleep(for: .milliseconds(10)) }
        }
        let split = try #require(chosen, "the split never counted its decode")
        router.core.drain(split)
        let a = try await answer.value
        let other = split == d1.url ? d2.url : d1.url
        #expect(a.status == 200 && a.headers["x-baton-route"] == "local" && a.headers["x-baton-decode"] == other, "\(a)")
        #expect(router.metrics().contains(#"baton_router_fallbacks_total{reason="prefill_failed"} 1"#))
        #expect(d1.received.count + d2.received.count == 1)
    }

    @Test func prefillFailurePolicyFailAnswers503WithRetryAfter() async throws {
        let p = try await FakeUpstream.start { _ in .json(status: 500, body: Data("{}".utf8)) }
        let d = try await FakeUpstream.start { _ in .json(status: 200, body: completionJSON("local")) }
        let router = try await LiveRouter.start(prefill: [p.url], decode: [d.url]) {
            $0.prefillFailure = .fail
            $0.waitForDecode = .seconds(20)  // no wait under `fail`: no local prefill will come
        }
        defer { Task { await router.stop(); p.stop(); d.stop() } }
        let started = ContinuousClock.now
        let a = try await router.post("/v1/completions", #"{"prompt":"\#(Self.long)"}"#)
        #expect(a.status == 503 && a.headers["retry-after"] == "1")
        #expect(ContinuousClock.now - started < .seconds(10), "the 503 came after a wait")
        let error = try JSONDecoder().decode(APIError.Body.self, from: Data(a.body.utf8))
        #expect(error.error.type == "service_unavailable")
        #expect(d.received.isEmpty)
    }

    @Test func aPrefill4xxIsTheClientsAnswer() async throws {
        let body = #"{"error":{"message":"temperature must be ≥ 0","type":"invalid_request_error","param":"temperature","code":null}}"#
        let p = try await FakeUpstream.start { _ in .json(status: 400, body: Data(body.utf8)) }
        let d = try await FakeUpstream.start { _ in .json(status: 200, body: completionJSON("no")) }
        let router = try await LiveRouter.start(prefill: [p.url], decode: [d.url])
        defer { Task { await router.stop(); p.stop(); d.stop() } }
        let a = try await router.post("/v1/completions", #"{"prompt":"\#(Self.long)","temperature":-1}"#)
        #expect(a.status == 400 && a.body == body)
        #expect(d.received.isEmpty && p.received.count == 1)
        #expect(router.core.members().allSatisfy { $0.member.health == .healthy && $0.member.inFlight == 0 })
    }

    @Test func aStreamCutMidwayEndsWithAnErrorEventAndDone() async throws {
        let d = try await FakeUpstream.start { _ in .streamThenCut(first: "data: {\"n\":1}\n\n") }
        let router = try await LiveRouter.start(prefill: [], decode: [d.url])
        defer { Task { await router.stop(); d.stop() } }
        let a = try await router.post("/v1/completions", #"{"prompt":"hi","stream":true}"#)
        #expect(a.status == 200)
        #expect(a.body.hasPrefix("data: {\"n\":1}\n\ndata: {\"error\":"))
        #expect(a.body.hasSuffix("data: [DONE]\n\n"))
    }

    @Test func withWaitForDecodeARequestWaitsForADecodeToComeBack() async throws {
        let d = try await FakeUpstream.start { _ in .json(status: 200, body: completionJSON("back")) }
        let router = try await LiveRouter.start(prefill: [], decode: []) { $0.waitForDecode = .seconds(20) }
        defer { Task { await router.stop(); d.stop() } }
        let waiting = Task { try await router.post("/v1/completions", #"{"prompt":"hi"}"#) }
        try await Task.sleep(for: .milliseconds(500))
        #expect(d.received.isEmpty)
        router.core.add(d.url, role: .decode, healthy: true)  // the replica is back
        let a = try await waiting.value
        #expect(a.status == 200 && a.body.contains("back"))
        // A decode that dies before its first byte, with no other up: the retry waits for it too.
        let calls = Mutex(0)
        let flaky = try await FakeUpstream.start { _ in
            let n = calls.withLock { n in
                defer { n += 1 }
                return n
            }
            return n == 0 ? .json(status: 503, body: Data("{}".utf8)) : .json(status: 200, body: completionJSON("again"))
        }
        let r2 = try await LiveRouter.start(prefill: [], decode: [flaky.url]) { $0.waitForDecode = .seconds(20) }
        defer { Task { await r2.stop(); flaky.stop() } }
        let retried = Task { try await r2.post("/v1/completions", #"{"prompt":"hi"}"#) }
        try await Task.sleep(for: .milliseconds(500))
        r2.core.add(flaky.url, role: .decode, healthy: true)  // ejected by its 503; seen healthy again
        let b = try await retried.value
        #expect(b.status == 200 && b.body.contains("again") && flaky.received.count == 2)
    }

    @Test func noDecodeIs503() async throws {
        let router = try await LiveRouter.start(prefill: [], decode: ["http://127.0.0.1:1"]) { $0.decodeTries = 1 }
        defer { Task { await router.stop() } }
        let a = try await router.post("/v1/completions", #"{"prompt":"hi"}"#)
        #expect(a.status == 503 && a.headers["retry-after"] != nil)
        let b = try await router.post("/v1/completions", #"{"prompt":"hi"}"#)
        #expect(b.status == 503 && b.body.contains("No decode endpoint is healthy"))
        #expect(try await router.get("/health").status == 503)
    }

    @Test func keysBodyLimitAndAdmin() async throws {
        let d = try await FakeUpstream.start { _ in .json(status: 200, body: completionJSON("ok")) }
        let router = try await LiveRouter.start(prefill: [], decode: [d.url]) {
            $0.apiKeys = ["k1", "second-key"]
            $0.maxBodyBytes = 4096
        }
        defer { Task { await router.stop(); d.stop() } }
        #expect(try await router.post("/v1/completions", #"{"prompt":"hi"}"#).status == 401)
        #expect(try await router.post("/v1/completions", #"{"prompt":"hi"}"#, headers: [("Authorization", "Bearer k2")]).status == 401)
        #expect(try await router.post("/v1/completions", #"{"prompt":"hi"}"#, headers: [("Authorization", "Bearer second-key")]).status == 200)
        let big = try await router.post(
            "/v1/completions", #"{"prompt":"\#(String(repeating: "x", count: 5000))"}"#, headers: [("Authorization", "Bearer k1")])
        #expect(big.status == 413 && big.body.contains("request_too_large"))
        let bad = try await router.post("/v1/chat/completions", #"{"messages":[1,"#, headers: [("Authorization", "Bearer k1")])
        #expect(bad.status == 400 && bad.body.contains("invalid_request_error"))
        #expect(try await router.get("/health").status == 200)
        #expect(try await router.get("/admin/pools").status == 401, "engine URLs and errors are for key holders")
        let pools = try await router.get("/admin/pools", headers: [("Authorization", "Bearer k1")])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(pools.body.utf8)) as? [String: [[String: Any]]])
        #expect(json["decode"]?.first?["url"] as? String == d.url && json["decode"]?.first?["state"] as? String == "healthy")
        #expect(json["decode"]?.first?["prefix_index_blocks"] as? Int == 0 && json["prefill"]?.isEmpty == true)
        #expect(try await router.get("/v1/models").status == 401)
        let models = try await router.get("/v1/models", headers: [("Authorization", "Bearer k1")])
        #expect(models.status == 200 && models.body.contains("smollm2"))
    }
}

extension ProxyTests {
    @Test func aClientLeavingDuringThePrefillLeavesNothingInFlight() async throws {
        let p = try await FakeUpstream.start { _ in
            // Long enough that only a router that noticed the client leave skips the decode, even
            // on a machine loaded by the other test suites.
            try? await Task.sleep(for: .seconds(30))
            return .json(status: 200, body: completionJSON("x", kv: prefillParams))
        }
        let d = try await FakeUpstream.start { _ in .json(status: 200, body: completionJSON("decoded")) }
        let router = try await LiveRouter.start(prefill: [p.url], decode: [d.url])
        defer { Task { await router.stop(); p.stop(); d.stop() } }
        var request = HTTPClientRequest(url: router.url + "/v1/completions")
        request.method = .POST
        request.body = .bytes(ByteBuffer(string: #"{"prompt":"\#(Self.long)"}"#))
        await #expect(throws: (any Error).self) { _ = try await HTTPClient.shared.execute(request, timeout: .milliseconds(300)) }
        var settled = false
        for _ in 0..<200 where !settled {
            try await Task.sleep(for: .milliseconds(50))
            settled = router.core.members().allSatisfy { $0.member.inFlight == 0 }
        }
        #expect(settled, "\(router.core.members().map { ($0.member.endpoint.url, $0.member.inFlight) })")
        #expect(d.received.isEmpty, "the decode is never called for a client that left")
        #expect(router.core.members().allSatisfy { $0.member.health == .healthy })
    }
}

extension ProxyTests {
    @Test func aTokenizeFailureRoutesByLoadInsteadOfFailingTheRequest() async throws {
        let d = try await FakeUpstream.start { r in
            r.path == "/tokenize" ? .json(status: 500, body: Data("{}".utf8)) : .json(status: 200, body: completionJSON("ok"))
        }
        let remote = RemotePromptTokenizer(decode: [Endpoint.parse(d.url)!], timeout: .seconds(2))
        let router = try await LiveRouter.start(prefill: [], decode: [d.url], tokenizer: remote)
        defer { Task { await router.stop(); d.stop() } }
        let a = try await router.post("/v1/chat/completions", #"{"messages":[{"role":"user","content":"hi"}]}"#)
        #expect(a.status == 200 && a.body.contains("ok"))
        #expect(d.received.map(\.path) == ["/tokenize", "/v1/chat/completions"])
        #expect(router.core.members().allSatisfy { $0.member.health == .healthy }, "a /tokenize failure is not the decode's")
    }
}

extension ProxyTests {
    /// The local path answers alike on the fast lane and through Hummingbird: status, body,
    /// request id (the client's, or a new one also sent upstream), route headers, streaming.
    @Test(arguments: [true, false]) func theLocalPathAnswersAlikeWithAndWithoutTheFastLane(fastLane: Bool) async throws {
        let d = try await FakeUpstream.start { r in
            r.json?["stream"] as? Bool == true ? .stream(chunks: ["data: {\"n\":1}\n\n", "data: [DONE]\n\n"]) : .json(status: 200, body: completionJSON("ok"))
        }
        let router = try await LiveRouter.start(prefill: [], decode: [d.url]) { $0.fastLane = fastLane }
        defer { Task { await router.stop(); d.stop() } }
        let a = try await router.post("/v1/completions", #"{"prompt":"hi"}"#)
        #expect(a.status == 200 && a.body.contains("ok") && a.headers["x-baton-route"] == "local" && a.headers["x-baton-decode"] == d.url)
        let id = try #require(a.headers["x-request-id"])
        #expect(id.count == 32 && id.allSatisfy { "0123456789abcdef".contains($0) })
        #expect(d.received.last?.headers["x-request-id"] == id, "the engine got the id the client got")
        let b = try await router.post("/v1/chat/completions", #"{"messages":[{"role":"user","content":"hi"}],"stream":true}"#,
                                      headers: [("X-Request-Id", "mine-7")])
        #expect(b.status == 200 && b.body == "data: {\"n\":1}\n\ndata: [DONE]\n\n" && b.headers["x-request-id"] == "mine-7")
        #expect(b.headers["content-type"]?.hasPrefix("text/event-stream") == true)
        #expect(d.received.last?.headers["x-request-id"] == "mine-7" && d.received.last?.path == "/v1/chat/completions")
        // A client-supplied kv_transfer_params never reaches the engine (the slow path strips it).
        let c = try await router.post("/v1/completions", #"{"prompt":"hi","kv_transfer_params":{"remote_block_ids":[1]}}"#)
        #expect(c.status == 200 && d.received.last?.json?["kv_transfer_params"] == nil)
        let m = router.metrics()
        #expect(m.contains("baton_router_fast_lane_total \(fastLane ? 2 : 0)"), "\(m)")
        #expect(m.contains(#"baton_router_requests_total{path="local",code="200"} 3"#))
        #expect(router.core.members().allSatisfy { $0.member.inFlight == 0 })
    }

    /// The router's own time (baton_router_overhead_seconds) includes tokenizing and deciding on
    /// both paths: a tokenizer that takes 30 ms shows in it, the engine's answer time does not.
    @Test(arguments: [true, false]) func theOverheadMetricCountsTheDecision(fastLane: Bool) async throws {
        let d = try await FakeUpstream.start { _ in .json(status: 200, body: completionJSON("ok")) }
        let router = try await LiveRouter.start(prefill: [], decode: [d.url], tokenizer: SlowTokenizer(delay: 0.03)) {
            $0.fastLane = fastLane
        }
        defer { Task { await router.stop(); d.stop() } }
        let a = try await router.post("/v1/completions", #"{"prompt":"hi"}"#)
        #expect(a.status == 200 && a.headers["x-baton-route"] == "local")
        let m = router.metrics()
        #expect(m.contains("baton_router_fast_lane_total \(fastLane ? 1 : 0)"), "\(m)")
        let sum = try #require(m.split(separator: "\n").first { $0.hasPrefix("baton_router_overhead_seconds_sum") }
            .flatMap { $0.split(separator: " ").last.flatMap { Double($0) } })
        #expect(sum >= 0.03, "overhead \(sum) s left the 30 ms tokenizer out")
    }

    /// Two requests written back to back on one connection (HTTP pipelining) are answered in
    /// order, the second only after the first.
    @Test(arguments: [true, false]) func garbageAfterARequestIsAnswered400AfterIt(fastLane: Bool) async throws {
        // The decoder fails on the bytes after a whole request: that request is still answered,
        // and then the 400 and the close, in order (the fast lane once let the 400 overtake it).
        let d = try await FakeUpstream.start { _ in
            try? await Task.sleep(for: .milliseconds(100))
            return .json(status: 200, body: completionJSON("answered"))
        }
        let router = try await LiveRouter.start(prefill: [], decode: [d.url]) { $0.fastLane = fastLane }
        defer { Task { await router.stop(); d.stop() } }
        let body = #"{"prompt":"hi"}"#
        let request = "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        let raw = try await RawHTTP.untilClosed(port: router.port, send: request + "GARBAGE\r\n\r\n").text
        let answer = try #require(raw.range(of: "answered"), "\(raw)")
        let bad = try #require(raw.range(of: "HTTP/1.1 400 Bad Request"), "\(raw)")
        #expect(raw.hasPrefix("HTTP/1.1 200 OK") && answer.upperBound <= bad.lowerBound, "\(raw)")
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        let d = try await FakeUpstream.start { r in
            let text = (r.json?["prompt"] as? String) ?? ""
            if text == "first" { try? await Task.sleep(for: .milliseconds(300)) }
            return .json(status: 200, body: completionJSON("answer-\(text)"))
        }
        let router = try await LiveRouter.start(prefill: [], decode: [d.url])
        defer { Task { await router.stop(); d.stop() } }
        func request(_ prompt: String, _ path: String = "/v1/completions") -> String {
            let body = #"{"prompt":"\#(prompt)"}"#
            return "POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        }
        let get = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
        let raw = try await RawHTTP.exchange(port: router.port, send: request("first") + get + request("second"), until: "answer-second")
        let first = try #require(raw.range(of: "answer-first")), health = try #require(raw.range(of: "HTTP/1.1 200 OK", range: first.upperBound..<raw.endIndex))
        let second = try #require(raw.range(of: "answer-second"))
        #expect(first.upperBound <= health.lowerBound && health.upperBound <= second.lowerBound, "\(raw)")
    }
}

extension ProxyTests {
    /// A decode past `timeouts.request` counts as failed (ejected) and, with no other decode, the
    /// client gets a 503, on the fast lane as on the slow path.
    @Test(arguments: [true, false]) func aDecodePastTheRequestTimeoutFails(fastLane: Bool) async throws {
        let d = try await FakeUpstream.start { _ in
            try? await Task.sleep(for: .seconds(20))
            return .json(status: 200, body: completionJSON("late"))
        }
        let router = try await LiveRouter.start(prefill: [], decode: [d.url]) {
            $0.fastLane = fastLane
            $0.timeouts.request = .milliseconds(300)
            $0.decodeTries = 1
        }
        defer { Task { await router.stop(); d.stop() } }
        let a = try await router.post("/v1/completions", #"{"prompt":"hi"}"#)
        #expect(a.status == 503 && !a.body.contains("late"))
        #expect(router.core.members().allSatisfy { $0.member.health != .healthy && $0.member.inFlight == 0 })
    }
}
