// A real `baton engine` process on a free loopback port, for tests that talk to it over HTTP.

import BatonTesting
import Foundation

final class LiveEngine: @unchecked Sendable {
    let process: Process
    let port: Int
    let apiKey: String
    let log: URL

    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// Starts `.build/debug/baton engine` (built by scripts/test.sh) and waits for /health. The
    /// port is a random one below the kernel's ephemeral range (a client connection of another
    /// test could hold one inside it); if it is taken anyway, another one, up to 5 times.
    /// `environment`: changes to this process's environment for the engine (nil: unset).
    init(apiKey: String = "test-key", extra: [String] = [], environment: [String: String?] = [:]) async throws {
        _ = try RealModel.require()
        let binary = Self.packageRoot.appendingPathComponent(".build/debug/baton")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw LiveEngineError(description: "\(binary.path) is missing; run scripts/test.sh (it builds baton first)")
        }
        self.apiKey = apiKey
        var attempt = 0
        while true {
            attempt += 1
            let port = Int.random(in: 10000..<Self.ephemeralLow)
            let log = FileManager.default.temporaryDirectory.appendingPathComponent("baton-engine-\(port).log")
            FileManager.default.createFile(atPath: log.path, contents: nil)
            let process = Process()
            process.executableURL = binary
            var env = ProcessInfo.processInfo.environment
            for (name, value) in environment { env[name] = value }
            process.environment = env
            process.arguments = ["engine", "--model", RealModel.path, "--served-model-name", "smollm2", "--port", String(port),
                                 "--api-key", apiKey, "--threads", "2", "--kv-cache-memory", "256MiB"] + extra
            let handle = try FileHandle(forWritingTo: log)
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
            var healthy = false
            for _ in 0..<300 {
                if let (status, _) = try? await Self.request(port: port, "GET", "/health"), status == 200 {
                    healthy = true
                    break
                }
                guard process.isRunning else { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if healthy {
                (self.process, self.port, self.log) = (process, port, log)
                return
            }
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
            if attempt < 5 && text.contains("Address already in use") { continue }
            throw LiveEngineError(description: "baton engine did not become healthy: \(text)")
        }
    }

    /// The low end of the kernel's ephemeral port range (32768 if it cannot be read).
    static var ephemeralLow: Int {
        let text = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
        let low = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).first.flatMap { Int($0) } ?? 32768
        return max(low, 10001)
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }
    var logText: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    deinit { stop() }

    /// A plain HTTP request with curl (no client library between the test and the wire).
    func request(_ method: String, _ path: String, body: String? = nil, headers: [String: String] = [:]) async throws -> (Int, String) {
        try await Self.request(port: port, method, path, body: body, headers: headers)
    }

    static func request(
        port: Int, _ method: String, _ path: String, body: String? = nil, headers: [String: String] = [:]
    ) async throws -> (Int, String) {
        var args = ["-s", "-o", "-", "-w", "\n%{http_code}", "-X", method, "http://127.0.0.1:\(port)" + path, "--max-time", "120"]
        for (k, v) in headers { args += ["-H", "\(k): \(v)"] }
        if let body { args += ["-H", "Content-Type: application/json", "--data-binary", body] }
        let out = try await Self.run("/usr/bin/curl", args)
        let lines = out.split(separator: "\n", omittingEmptySubsequences: false)
        let status = Int(lines.last ?? "") ?? 0
        return (status, lines.dropLast().joined(separator: "\n"))
    }

    func get(_ path: String) async throws -> (Int, String) { try await request("GET", path) }

    func post(_ path: String, _ body: String, key: String? = nil) async throws -> (Int, String) {
        try await request("POST", path, body: body, headers: ["Authorization": "Bearer \(key ?? apiKey)"])
    }

    /// Runs a program to its end (ScriptRunner's: both pipes drained at once); returns stdout,
    /// and with `check` throws if it exits non-zero.
    static func run(_ path: String, _ args: [String], check: Bool = false) async throws -> String {
        let out = try await ScriptRunner.run(path, args)
        if check, out.status != 0 {
            throw LiveEngineError(description: "\(path) \(out.transcript)")
        }
        return out.stdout
    }
}

struct LiveEngineError: Error, CustomStringConvertible {
    let description: String
}
