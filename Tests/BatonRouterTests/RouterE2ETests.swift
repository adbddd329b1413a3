// The router end to end: baton_e2e.router_e2e (scripts/baton_e2e/router_e2e.py) starts real `baton engine` processes of
// `.build/debug/baton` (a `kv_both` reference, a producer, four consumers) and `baton router`s in
// front of them, and checks that answers through the router equal one engine's with the
// split/local decisions it predicts, that prompts sharing a prefix and requests of one session
// stay on one decode, and that the official openai client works through the router with and
// without an API key.

import BatonTesting
import Foundation
import Testing

@Suite(.serialized) struct RouterE2ETests {
    @Test func routerAnswersAsOneEngineKeepsAffinityAndServesTheOpenAIClient() async throws {
        _ = try RealModel.require()
        let binary = try ScriptRunner.baton()
        let out = try await ScriptRunner.module("router_e2e", [binary.path])
        #expect(out.status == 0, "\(out.transcript)")
        #expect(out.lastLine == "router checks passed", "\(out.transcript)")
    }
}
