// `baton serve` end to end: baton_e2e.serve_e2e (scripts/baton_e2e/serve_e2e.py) runs `.build/debug/baton serve` (the default app and
// a Ray Serve YAML's --check) as real processes and checks the plan, readiness, CPU pinning,
// log prefixes, the openai client through the router, the split and local paths, a killed
// engine restarted, Ctrl-C with a stream in flight (it finishes; nothing left behind), and a
// killed supervisor's engines exiting by themselves.

import BatonTesting
import Foundation
import Testing

@Suite(.serialized) struct ServeE2ETests {
    @Test func theDefaultAppServesRestartsAndStopsCleanly() async throws {
        _ = try RealModel.require()
        let binary = try ScriptRunner.baton()
        let out = try await ScriptRunner.module("serve_e2e", [binary.path], python: try ScriptRunner.interopPython())
        #expect(out.status == 0, "\(out.transcript)")
        #expect(out.lastLine == "serve checks passed", "\(out.transcript)")
    }
}
