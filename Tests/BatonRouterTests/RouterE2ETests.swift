// The router end to end: router_e2e.py starts real `baton engine` processes of
// `.build/debug/baton` (a `kv_both` reference, a producer, four consumers) and `baton router`s in
// front of them, and checks that answers through the router equal one engine's with the
// split/local decisions it predicts, that prompts sharing a prefix and requests of one session
// stay on one decode, and that the official openai client works through the router with and
// without an API key.

import BatonTesting
import Foundation
import Testing

@Suite(.serialized) struct RouterE2ETests {
    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    @Test func routerAnswersAsOneEngineKeepsAffinityAndServesTheOpenAIClient() async throws {
        _ = try RealModel.require()
        let binary = Self.packageRoot.appendingPathComponent(".build/debug/baton")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            Issue.record("\(binary.path) is missing; run scripts/test.sh (it builds baton first)")
            return
        }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("router_e2e.py")
        let (status, out, err) = try await Self.run("/usr/bin/env", ["python3", script.path, binary.path])
        let last = out.split(separator: "\n").last.map(String.init) ?? ""
        #expect(status == 0 && last == "router checks passed", "exit \(status)\n\(out)\(err)")
    }

    /// Runs a program to completion on threads of its own; stdout and stderr are read at the same
    /// time, so a full pipe can never stall it.
    static func run(_ path: String, _ args: [String]) async throws -> (status: Int32, out: String, err: String) {
        try await withCheckedThrowingContinuation { c in
            Thread {
                c.resume(with: Result {
                    let p = Process()
                    p.executableURL = URL(fileURLWithPath: path)
                    p.arguments = args
                    let out = Pipe(), err = Pipe()
                    p.standardOutput = out
                    p.standardError = err
                    p.standardInput = FileHandle.nullDevice
                    try p.run()
                    let errText = Captured()
                    let errDone = DispatchSemaphore(value: 0)
                    Thread {
                        errText.data = err.fileHandleForReading.readDataToEndOfFile()
                        errDone.signal()
                    }.start()
                    let outData = out.fileHandleForReading.readDataToEndOfFile()
                    errDone.wait()
                    p.waitUntilExit()
                    return (p.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errText.data, as: UTF8.self))
                })
            }.start()
        }
    }

    /// Bytes one thread reads and another takes after the semaphore.
    final class Captured: @unchecked Sendable {
        var data = Data()
    }
}
