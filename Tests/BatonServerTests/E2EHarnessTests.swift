// The end-to-end harness itself (scripts/baton_e2e): its unit tests, run as the checks are run
// (`python3 -m`, the package's parent on PYTHONPATH). test_metrics: the one Prometheus parser on
// a sample exposition (labels, escapes, a histogram, NaN/+Inf, malformed lines). test_layout: no
// Python file outside scripts/reference edits sys.path, and parse_metrics is defined once.
// pd_proxy's self-test: the two bodies vLLM's disaggregated-serving proxy sends, rebuilt from the
// captured vLLM bodies in Tests/BatonRouterTests/Fixtures exactly, key order included.

import BatonTesting
import Testing

@Suite struct E2EHarnessTests {
    @Test func theHarnessUnitTestsPass() async throws {
        let out = try await ScriptRunner.module("test_metrics", [])
        #expect(out.status == 0, "\(out.transcript)")
        let layout = try await ScriptRunner.module("test_layout", [])
        #expect(layout.status == 0, "\(layout.transcript)")
        // unittest reports on stderr: make sure the tests ran rather than found nothing.
        #expect(out.stderr.contains("Ran 7 tests") && layout.stderr.contains("Ran 3 tests"), "\(out.transcript)\n\(layout.transcript)")
    }

    @Test func theProxyBodiesMatchTheVLLMCapture() async throws {
        let out = try await ScriptRunner.module("pd_proxy", ["--self-test"])
        #expect(out.status == 0, "\(out.transcript)")
        #expect(out.stdout.contains("10 captured vLLM proxy bodies rebuilt exactly"), "\(out.transcript)")
    }
}
