// The router's failure rules (docs/architecture.md) on real processes:
// baton_e2e.router_failures (scripts/baton_e2e/router_failures.py) starts `baton engine` prefill and decode processes of `.build/debug/baton`,
// tiny fake engines that fail on purpose (500, a sleep past the prefill timeout, a connection
// closed before any byte), and `baton router` in front of them; it checks that prefill failures
// fall back or retry and answer right, a prefill's 4xx reaches the client as it was, a decode
// failing before its first byte is retried, a decode dying mid-stream ends the stream with an
// SSE error event, a client going away frees both engines, no healthy decode is a 503 and every
// decode busy a 429, and a 60 s chaos run (a random engine killed -9 and restarted every 10 s
// under 16 streaming clients) fails no request before its first byte and strands no KV blocks.

import BatonTesting
import Foundation
import Testing

@Suite(.serialized) struct RouterFailureTests {
    @Test func failureRulesHoldOnRealEngines() async throws {
        _ = try RealModel.require()
        let binary = try ScriptRunner.baton()
        let out = try await ScriptRunner.module("router_failures", [binary.path])
        #expect(out.status == 0, "\(out.transcript)")
        #expect(out.lastLine == "router failure checks passed", "\(out.transcript)")
    }
}
