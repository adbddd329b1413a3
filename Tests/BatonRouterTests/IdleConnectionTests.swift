// Idle client connections are closed (IdleConnections.swift): the decision on a clock of its
// own, then over real loopback connections to the router, with the fast lane on and off.

@testable import BatonRouter
import BatonTesting
import Foundation
import NIOCore
import NIOHTTP1
import Testing

@Suite struct IdleConnectionTests {
    static let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)
    static func at(_ ms: Int64) -> NIODeadline { t0 + .milliseconds(ms) }
    static let head = HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: .POST, uri: "/v1/completions"))

    @Test func aConnectionIsIdleOnlyWhenNothingIsAnswered() {
        var s = IdleConnection(timeout: .milliseconds(100), now: Self.t0)
        #expect(s.check(now: Self.at(50)) == .check(at: Self.at(100)))
        #expect(s.check(now: Self.at(100)) == .close, "no request at all")
        // A request that stops arriving halfway is idle from its last part.
        s.read(Self.head, now: Self.at(60))
        #expect(s.check(now: Self.at(100)) == .check(at: Self.at(160)))
        #expect(s.check(now: Self.at(170)) == .close)
        // Read whole and being answered: never idle, however long the answer takes.
        s.read(.end(nil), now: Self.at(70))
        #expect(s.check(now: Self.at(10_000)) == .check(at: Self.at(10_100)))
        // A pipelined request read while the first is answered (its reading held): still answering.
        s.read(Self.head, now: Self.at(80))
        #expect(s.answering && s.check(now: Self.at(10_000)) == .check(at: Self.at(10_100)))
        s.answerEnded(now: Self.at(10_050))
        #expect(!s.answering, "only the pipelined one, half read, is left")
        #expect(s.check(now: Self.at(10_100)) == .check(at: Self.at(10_150)))
        s.read(.end(nil), now: Self.at(10_120))
        s.answerEnded(now: Self.at(10_130))
        // Kept alive with no request: idle from the last answer's end.
        #expect(s.inProgress == 0 && s.check(now: Self.at(10_200)) == .check(at: Self.at(10_230)))
        #expect(s.check(now: Self.at(10_230)) == .close)
    }

    @Test(arguments: [true, false]) func idleConnectionsAreClosedAndLongAnswersAreNot(fastLane: Bool) async throws {
        let d = try await FakeUpstream.start { r in
            guard r.json?["stream"] as? Bool == true else { return .json(status: 200, body: completionJSON("kept")) }
            // Each part after the first 250 ms after the one before: 750 ms in all.
            let (gate, open) = AsyncStream<Void>.makeStream()
            Task {
                for _ in 0..<3 {
                    try await Task.sleep(for: .milliseconds(250))
                    open.yield()
                }
            }
            return .stream(chunks: ["data: {\"n\":1}\n\n", "data: {\"n\":2}\n\n", "data: {\"n\":3}\n\n", "data: [DONE]\n\n"], release: gate)
        }
        let router = try await LiveRouter.start(prefill: [], decode: [d.url]) {
            $0.fastLane = fastLane
            $0.timeouts.idle = .milliseconds(300)
        }
        defer { Task { await router.stop(); d.stop() } }
        // A head that never ends (slowloris): closed, with nothing answered.
        let partial = try await RawHTTP.untilClosed(port: router.port, send: "POST /v1/completions HTTP/1.1\r\nHost: x\r\n")
        #expect(partial.text.isEmpty && partial.seconds < 10, "\(partial)")
        // Answered, then kept alive with nothing more: closed after the answer.
        let body = #"{"prompt":"hi"}"#
        let request = "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        let kept = try await RawHTTP.untilClosed(port: router.port, send: request)
        #expect(kept.text.hasPrefix("HTTP/1.1 200") && kept.text.contains("kept") && kept.seconds < 10, "\(kept)")
        // A stream whose parts come further apart than the idle timeout goes out whole.
        let streamBody = #"{"prompt":"hi","stream":true}"#
        let streamed = try await RawHTTP.exchange(
            port: router.port,
            send: "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(streamBody.utf8.count)\r\n\r\n\(streamBody)",
            until: "[DONE]")
        #expect(streamed.contains("\"n\":3") && streamed.contains("data: [DONE]"), "\(streamed)")
    }
}
