// The KV handoff between real `baton engine` processes, on what the proxy cannot see: a pull
// that fails is recomputed (same greedy answer) and counted by reason on /metrics; a decode
// engine reports the prefill's cache hit as the client's `cached_tokens`; and an engine whose
// KV port listens beyond loopback refuses to start without a secret, and starts with one.

import BatonTesting
import Foundation
import Testing

private func metric(_ text: String, _ name: String, label: String = "") -> Double? {
    for line in text.split(separator: "\n") where line.hasPrefix(name + "{") && (label.isEmpty || line.contains(label)) {
        return Double(line.split(separator: " ").last ?? "")
    }
    return nil
}

private func json(_ text: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
}

/// A token-id prompt (its length is then known exactly): `count` ids from a fixed story.
private let prompt: [Int] = (0..<70).map { 300 + ($0 * 37) % 900 }

private func completion(_ e: LiveEngine, prompt: [Int], kv: [String: Any]? = nil) async throws -> [String: Any] {
    var body: [String: Any] = ["model": "smollm2", "prompt": prompt, "max_tokens": 8, "temperature": 0]
    if let kv { body["kv_transfer_params"] = kv }
    let data = try JSONSerialization.data(withJSONObject: body)
    let (status, text) = try await e.post("/v1/completions", String(decoding: data, as: UTF8.self))
    #expect(status == 200, "\(text)")
    return try json(text)
}

private func text(_ answer: [String: Any]) -> String? {
    ((answer["choices"] as? [[String: Any]])?.first)?["text"] as? String
}

private func cachedTokens(_ answer: [String: Any]) -> Int? {
    ((answer["usage"] as? [String: Any])?["prompt_tokens_details"] as? [String: Any])?["cached_tokens"] as? Int
}

@Suite(.serialized) struct KVHandoffLiveTests {
    @Test func aPullThatCannotBeUsedIsRecomputedLoggedAndCountedByReason() async throws {
        let closed = try await freeLoopbackPort()  // nothing listens there: the producer is gone
        let consumer = try await LiveEngine(extra: ["--kv-role", "kv_consumer", "--kv-secret", "s"])
        defer { consumer.stop() }
        let blocks = (prompt.count + 15) / 16
        let gone: [String: Any] = [
            "do_remote_prefill": true, "remote_engine_id": "p", "remote_request_id": "gone-1",
            "remote_block_ids": Array(0..<blocks), "remote_host": "127.0.0.1", "remote_port": closed,
        ]
        var tooMany = gone
        tooMany["remote_block_ids"] = Array(0..<(blocks + 3))
        var noHost = gone
        noHost["remote_host"] = nil
        // A different prompt each time, none in the consumer's prefix cache before its split
        // request; then the same prompt served plainly gives the same greedy answer.
        for (i, kv) in [gone, tooMany, noHost].enumerated() {
            let p = [1000 + i] + prompt.dropFirst()
            let split = try await completion(consumer, prompt: p, kv: kv)
            let plain = try await completion(consumer, prompt: p)
            #expect(text(split) != nil && text(split) == text(plain), "recomputed \(text(split) ?? "nil") vs \(text(plain) ?? "nil")")
        }
        let (_, metrics) = try await consumer.get("/metrics")
        #expect(metric(metrics, "baton_kv_load_failures_total", label: #"reason="peer_unreachable""#) == 1, "\(metrics)")
        #expect(metric(metrics, "baton_kv_load_failures_total", label: #"reason="block_count_mismatch""#) == 1)
        #expect(metric(metrics, "baton_kv_load_failures_total", label: #"reason="bad_params""#) == 1)
        #expect(metric(metrics, "baton_kv_load_failures_total", label: #"reason="blocks_missing""#) == 0)
        let log = consumer.logText
        #expect(log.contains("KV load failed, recomputing") && log.contains("reason=peer_unreachable"), "\(log)")
        #expect(log.contains("reason=bad_params") && log.contains("remote_host is required"))
    }

    @Test func theDecodeReportsThePrefillsCacheHitAsCachedTokens() async throws {
        let kvPort = try await freeLoopbackPort()
        let producer = try await LiveEngine(extra: ["--kv-role", "kv_producer", "--kv-port", String(kvPort), "--kv-secret", "s"])
        defer { producer.stop() }
        let consumer = try await LiveEngine(extra: ["--kv-role", "kv_consumer", "--kv-secret", "s"])
        defer { consumer.stop() }
        // The prefill has the prompt's first blocks cached; the decode has nothing.
        let warm = try await completion(producer, prompt: Array(prompt.prefix(48)) + [5, 6, 7])
        #expect(cachedTokens(warm) == 0)
        let prefill = try await completion(producer, prompt: prompt, kv: ["do_remote_decode": true])
        let params = try #require(prefill["kv_transfer_params"] as? [String: Any], "\(prefill)")
        let hit = try #require(params["remote_prefill_cached_tokens"] as? Int)
        #expect(hit == 48, "the prefill found its 3 cached blocks")
        #expect(cachedTokens(prefill) == hit)
        let decode = try await completion(consumer, prompt: prompt, kv: params)
        #expect(cachedTokens(decode) == hit, "cached_tokens as one engine would report them: \(decode)")
        let (_, metrics) = try await consumer.get("/metrics")
        #expect(metric(metrics, "baton_kv_transfer_blocks_total") ?? 0 > 0, "the decode pulled (did not recompute)")
        // One engine answers the same.
        let one = try await completion(producer, prompt: prompt)
        #expect(text(decode) == text(one))
    }

    @Test func onLoopbackAnEngineStartsWithoutASecretAndWarnsOnce() async throws {
        let kvPort = try await freeLoopbackPort()
        let producer = try await LiveEngine(
            extra: ["--kv-role", "kv_producer", "--kv-ip", "127.0.0.1", "--kv-port", String(kvPort)],
            environment: ["BATON_KV_SECRET": nil])
        defer { producer.stop() }
        let warnings = producer.logText.components(separatedBy: "the KV channel has no secret").count - 1
        #expect(warnings == 1, "\(producer.logText)")
    }

    @Test(arguments: [["--kv-role", "kv_producer", "--kv-ip", "0.0.0.0"], ["--kv-role", "kv_both", "--kv-ip", "192.168.1.20"]])
    func anEngineListeningBeyondLoopbackRefusesToStartWithoutASecret(_ flags: [String]) async throws {
        let binary = LiveEngine.packageRoot.appendingPathComponent(".build/debug/baton")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            Issue.record("\(binary.path) is missing; run scripts/test.sh (it builds baton first)")
            return
        }
        let (status, output) = try await runMerged(binary.path, ["engine", "--model", "/nonexistent.gguf"] + flags)
        #expect(status != 0)
        #expect(output.contains("has no secret") && output.contains("--kv-secret"), "\(output)")
    }

    @Test func anEngineListeningBeyondLoopbackWithASecretStartsAndServesKV() async throws {
        let kvPort = try await freeLoopbackPort()
        let producer = try await LiveEngine(
            extra: ["--kv-role", "kv_producer", "--kv-ip", "0.0.0.0", "--kv-port", String(kvPort), "--kv-secret", "s"],
            environment: ["BATON_KV_SECRET": nil])
        defer { producer.stop() }
        // /health answered (LiveEngine waits for it); the KV port listens, on every address.
        var listening = false
        for _ in 0..<50 where !listening {
            listening = (try? LoopbackSocket(port: kvPort)) != nil
            if !listening { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(listening, "nothing listens on the KV port \(kvPort): \(producer.logText)")
        #expect(!producer.logText.contains("has no secret"))
    }
}

/// Runs a program to its end with stdout and stderr in one pipe (read while it runs), without
/// BATON_KV_SECRET in its environment.
private func runMerged(_ path: String, _ args: [String]) async throws -> (Int32, String) {
    try await withCheckedThrowingContinuation { c in
        Thread {
            c.resume(with: Result {
                let p = Process()
                p.executableURL = URL(fileURLWithPath: path)
                p.arguments = args
                var env = ProcessInfo.processInfo.environment
                env["BATON_KV_SECRET"] = nil
                p.environment = env
                let pipe = Pipe()
                p.standardOutput = pipe
                p.standardError = pipe
                try p.run()
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                p.waitUntilExit()
                return (p.terminationStatus, String(decoding: data, as: UTF8.self))
            })
        }.start()
    }
}
