// The prefill/decode handoff end to end: pd_e2e.py starts producer, consumer and single
// `kv_both` engines of `.build/debug/baton`, drives them with vLLM's toy-proxy calls
// (scripts/pd_proxy.py) and checks that split serving answers as one engine does, pulls only
// the blocks the consumer lacks, strands no blocks when either side dies, and that the KV port
// survives hostile input.

import BatonTesting
import Foundation
import Testing

@Suite(.serialized) struct PDHandoffTests {
    @Test func splitServingMatchesOneEngineAndStrandsNothing() async throws {
        _ = try RealModel.require()
        let binary = LiveEngine.packageRoot.appendingPathComponent(".build/debug/baton")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            Issue.record("\(binary.path) is missing; run scripts/test.sh (it builds baton first)")
            return
        }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("pd_e2e.py")
        let out = try await LiveEngine.run("/usr/bin/env", ["python3", script.path, binary.path], check: true)
        let last = out.split(separator: "\n").last.map(String.init) ?? ""
        #expect(last == "pd checks passed", "\(out)")
    }
}
