// LiveEngine.run reads a child's stdout and stderr at the same time: a child that fills the
// stderr pipe (64 KiB) before it writes stdout and exits must not wait on a reader that is
// still at stdout's end.

import Foundation
import Testing

@Suite struct LiveEngineTests {
    /// 256 KiB to stderr, then a line to stdout. `timeout` ends the child after 20 s, so a
    /// reader that deadlocks fails here (no "done") rather than hanging the suite.
    @Test func aChildThatFillsStderrFirstDoesNotDeadlock() async throws {
        let start = ContinuousClock.now
        let out = try await LiveEngine.run("/usr/bin/timeout", ["20", "/bin/sh", "-c", "head -c 262144 /dev/zero >&2; echo done"])
        #expect(out == "done\n", "the child was stopped by timeout after \(ContinuousClock.now - start)")
        #expect(ContinuousClock.now - start < .seconds(15))
    }
}
