// One child process of the supervisor: the same binary run with a replica's arguments, its
// stdout and stderr copied line by line to ours with the replica's name in front, and its
// exit awaited without a thread parked on it. The child is told our pid
// (BATON_PARENT_PID) and exits by itself if we die without stopping it.

import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

final class ChildProcess: @unchecked Sendable {
    let name: String
    private let process = Process()
    private let output = Pipe()
    private let exit = ExitStatus()
    private let lines: LinePrefixer

    /// Starts `executable arguments…` with `environment` added to ours.
    init(name: String, executable: String, arguments: [String], environment: [String: String]) throws {
        self.name = name
        lines = LinePrefixer(prefix: "[\(name)] ")
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        env["BATON_PARENT_PID"] = String(getpid())
        process.environment = env
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        let exit = self.exit
        process.terminationHandler = { p in exit.set(p.terminationStatus) }
        let lines = self.lines
        output.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
                lines.flush()
            } else {
                lines.write(data)
            }
        }
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    /// The exit status (or signal number) once the child has ended.
    func exited() async -> Int32 { await exit.value() }

    /// SIGTERM (the engine drains and exits), SIGKILL if it is still there after `grace`.
    func stop(grace: Duration) async {
        guard process.isRunning else { return }
        kill(pid, SIGTERM)
        let deadline = ContinuousClock.now + grace
        while process.isRunning, ContinuousClock.now < deadline {
            if (try? await Task.sleep(for: .milliseconds(50))) == nil { break }  // cancelled: kill now
        }
        if process.isRunning { kill(pid, SIGKILL) }
        _ = await exited()
    }

    /// SIGKILL now (tests of the restart path).
    func kill9() {
        if process.isRunning { kill(pid, SIGKILL) }
    }
}

/// A status set once, awaited by any number of tasks.
final class ExitStatus: Sendable {
    private let state = Mutex<(status: Int32?, waiters: [CheckedContinuation<Int32, Never>])>((nil, []))

    func set(_ status: Int32) {
        let waiters = state.withLock { s in
            s.status = status
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiters { w.resume(returning: status) }
    }

    func value() async -> Int32 {
        await withCheckedContinuation { c in
            let now = state.withLock { s -> Int32? in
                if let status = s.status { return status }
                s.waiters.append(c)
                return nil
            }
            if let now { c.resume(returning: now) }
        }
    }
}

/// Copies bytes to stderr a whole line at a time, each line led by `prefix`.
final class LinePrefixer: @unchecked Sendable {
    private let prefix: Data
    private var pending = Data()
    private let lock = NSLock()

    init(prefix: String) { self.prefix = Data(prefix.utf8) }

    func write(_ data: Data) {
        lock.lock()
        defer { lock.unlock() }
        pending.append(data)
        var out = Data()
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            out.append(prefix)
            out.append(pending[pending.startIndex...newline])
            pending.removeSubrange(pending.startIndex...newline)
        }
        // A child that writes without newlines is passed on in pieces, not held without bound.
        if pending.count > Self.longestLine {
            out.append(prefix + pending + Data("\n".utf8))
            pending.removeAll()
        }
        if !out.isEmpty { FileHandle.standardError.write(out) }
    }

    static let longestLine = 64 << 10

    func flush() {
        lock.lock()
        defer { lock.unlock() }
        guard !pending.isEmpty else { return }
        FileHandle.standardError.write(prefix + pending + Data("\n".utf8))
        pending.removeAll()
    }
}
