// Runs a program to its end and hands back what it printed: the end-to-end checks, modules of the
// `baton_e2e` package (scripts/baton_e2e) run as `python3 -m baton_e2e.NAME` with scripts/ on
// PYTHONPATH, and any other child a test starts. stdout and stderr are read at the same time,
// each on its own thread, so a child that writes a lot to one of them never blocks on a full
// pipe while the other is being read.

import Foundation

public enum ScriptRunner {
    /// The package's root directory (this file is in Sources/BatonTesting).
    public static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// `.build/debug/baton`, built by scripts/test.sh before the tests run.
    public static func baton() throws -> URL {
        let binary = packageRoot.appendingPathComponent(".build/debug/baton")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw ScriptError(description: "\(binary.path) is missing; run scripts/test.sh (it builds baton first)")
        }
        return binary
    }

    /// scripts/, the folder that holds the `baton_e2e` package.
    public static var harnessDirectory: URL { packageRoot.appendingPathComponent("scripts") }

    /// The interop virtualenv's python (scripts/test.sh makes it; it has the openai client).
    public static func interopPython() throws -> URL {
        let python = packageRoot.appendingPathComponent(".build/interop-venv/bin/python")
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw ScriptError(description: "\(python.path) is missing; run scripts/test.sh (it makes the venv)")
        }
        return python
    }

    public struct Output: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String

        /// The last non-empty line of stdout.
        public var lastLine: String {
            stdout.split(separator: "\n", omittingEmptySubsequences: true).last.map(String.init) ?? ""
        }

        /// Both streams, for a failure message.
        public var transcript: String { "exit \(status)\n--- stdout ---\n\(stdout)\n--- stderr ---\n\(stderr)" }
    }

    /// Runs `python -m baton_e2e.MODULE args…` (python3 from the path, or `python`, e.g. the
    /// interop venv's) with the package importable, and waits for it, off the cooperative pool.
    public static func module(_ module: String, _ args: [String], python: URL? = nil) async throws -> Output {
        let (path, head) = python.map { ($0.path, [String]()) } ?? ("/usr/bin/env", ["python3"])
        return try await run(path, head + ["-m", "baton_e2e.\(module)"] + args, environment: ["PYTHONPATH": harnessDirectory.path])
    }

    /// Runs `path args…` in the package root, with `environment` over this process's, and waits
    /// for it, off the cooperative pool.
    public static func run(_ path: String, _ args: [String], environment: [String: String] = [:]) async throws -> Output {
        try await withCheckedThrowingContinuation { c in
            Thread { c.resume(with: Result { try runBlocking(path, args, environment: environment) }) }.start()
        }
    }

    /// Runs `path args…` in the package root and waits, on the calling thread: both pipes are
    /// read at once (stderr on a thread of its own), so a child that fills one before closing
    /// the other cannot deadlock the wait.
    public static func runBlocking(_ path: String, _ args: [String], environment: [String: String] = [:]) throws -> Output {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        p.currentDirectoryURL = packageRoot
        if !environment.isEmpty {
            p.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let errData = Drain()
        let errHandle = err.fileHandleForReading
        let reader = Thread { errData.set(errHandle.readDataToEndOfFile()) }
        reader.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        errData.wait()
        p.waitUntilExit()
        return Output(
            status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData.data, as: UTF8.self))
    }

    /// One stream's bytes, handed from its reader thread.
    private final class Drain: @unchecked Sendable {
        private let done = DispatchSemaphore(value: 0)
        private(set) var data = Data()

        func set(_ data: Data) {
            self.data = data
            done.signal()
        }

        func wait() { done.wait() }
    }
}
