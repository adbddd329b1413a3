// The official `openai` Python client against a real `baton engine` process over loopback.

import Foundation
import Testing

@Suite(.serialized) struct OpenAIInteropTests {
    @Test func officialClientPassesEveryCheck() async throws {
        let engine = try await LiveEngine()
        defer { engine.stop() }
        let python = LiveEngine.packageRoot.appendingPathComponent(".build/interop-venv/bin/python")
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            Issue.record("no \(python.path); scripts/test.sh creates it with the openai client")
            return
        }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("openai_interop.py")
        let out = try await LiveEngine.run(python.path, [script.path, engine.baseURL, engine.apiKey], check: true)
        #expect(out.contains("all checks passed"), "\(out)")
    }

    @Test func responsesMatchTheOpenAPIDocument() async throws {
        let engine = try await LiveEngine()
        defer { engine.stop() }
        let python = LiveEngine.packageRoot.appendingPathComponent(".build/interop-venv/bin/python")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("openapi_check.py")
        let spec = LiveEngine.packageRoot.appendingPathComponent("docs/openapi.yaml")
        let out = try await LiveEngine.run(python.path, [script.path, spec.path, engine.baseURL, engine.apiKey], check: true)
        #expect(out.contains("responses match"), "\(out)")
    }
}
