// The official `openai` Python client against a real `baton engine` process over loopback
// (baton_e2e.openai_interop and baton_e2e.openapi_check, run with the interop venv's python).

import BatonTesting
import Foundation
import Testing

@Suite(.serialized) struct OpenAIInteropTests {
    @Test func officialClientPassesEveryCheck() async throws {
        let engine = try await LiveEngine()
        defer { engine.stop() }
        let out = try await ScriptRunner.module(
            "openai_interop", [engine.baseURL, engine.apiKey], python: try ScriptRunner.interopPython())
        #expect(out.status == 0, "\(out.transcript)")
        #expect(out.stdout.contains("all checks passed"), "\(out.transcript)")
    }

    @Test func responsesMatchTheOpenAPIDocument() async throws {
        let engine = try await LiveEngine()
        defer { engine.stop() }
        let spec = ScriptRunner.packageRoot.appendingPathComponent("docs/openapi.yaml")
        let out = try await ScriptRunner.module(
            "openapi_check", [spec.path, engine.baseURL, engine.apiKey], python: try ScriptRunner.interopPython())
        #expect(out.status == 0, "\(out.transcript)")
        #expect(out.stdout.contains("responses match"), "\(out.transcript)")
    }
}
