// The prefill/decode handoff end to end: baton_e2e.pd_e2e (scripts/baton_e2e/pd_e2e.py) starts
// producer, consumer and single `kv_both` engines of `.build/debug/baton`, drives them with vLLM's
// toy-proxy calls (baton_e2e.pd_proxy) and checks that split serving answers as one engine does, pulls only
// the blocks the consumer lacks, strands no blocks when either side dies, and that the KV port
// survives hostile input.

import BatonTesting
import Foundation
import Testing

@Suite(.serialized) struct PDHandoffTests {
    @Test func splitServingMatchesOneEngineAndStrandsNothing() async throws {
        _ = try RealModel.require()
        let binary = try ScriptRunner.baton()
        let out = try await ScriptRunner.module("pd_e2e", [binary.path])
        #expect(out.status == 0, "\(out.transcript)")
        #expect(out.lastLine == "pd checks passed", "\(out.transcript)")
    }
}
