// `baton bench`'s client: streaming `/v1/completions` requests against any OpenAI endpoint,
// timed chunk by chunk, sent on the workload's schedule with at most `maxConcurrency` in flight.

import AsyncHTTPClient
import Foundation
import NIOCore

/// Splits an SSE byte stream into `data:` payloads, whatever the chunk boundaries.
public struct SSEDataLines: Sendable {
    private var pending: [UInt8] = []

    public init() {}

    /// The complete `data:` payloads in `bytes` (with what came before), in order.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [String] {
        pending.append(contentsOf: bytes)
        var out: [String] = []
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            var line = pending[..<newline]
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            pending.removeSubrange(...newline)
            let text = String(decoding: line, as: UTF8.self)
            if text.hasPrefix("data:") { out.append(String(text.dropFirst(5)).trimmingCharacters(in: .whitespaces)) }
        }
        return out
    }
}

public struct BenchClient: Sendable {
    public var url: String
    public var model: String
    public var apiKey: String?

    public init(url: String, model: String, apiKey: String?) {
        self.url = url.hasSuffix("/") ? String(url.dropLast()) : url
        self.model = model
        self.apiKey = apiKey
    }

    /// The first model `/v1/models` lists.
    public static func firstModel(url: String, apiKey: String?) async throws -> String {
        var request = HTTPClientRequest(url: (url.hasSuffix("/") ? String(url.dropLast()) : url) + "/v1/models")
        if let apiKey { request.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        struct Models: Decodable {
            struct Model: Decodable { var id: String }
            var data: [Model]
        }
        guard response.status == .ok, let first = try? JSONDecoder().decode(Models.self, from: Data(body.readableBytesView)).data.first else {
            throw BenchWorkloadError(description: "\(url)/v1/models answered \(response.status.code) with no model; pass --model")
        }
        return first.id
    }

    /// One streamed completion, timed.
    public func run(_ prompt: BenchPrompt, timeout: Duration = .seconds(600)) async -> BenchRequestResult {
        let start = ContinuousClock.now
        func seconds(_ t: ContinuousClock.Instant) -> Double { (t - start).seconds }
        var request = HTTPClientRequest(url: url + "/v1/completions")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let apiKey { request.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        let body: [String: Any] = [
            "model": model, "prompt": prompt.prompt, "max_tokens": prompt.outputTokens, "stream": true,
            "stream_options": ["include_usage": true], "ignore_eos": true, "temperature": 0,
        ]
        guard let data = try? JSONSerialization.data(withJSONObject: body) else { return .failed("cannot encode the request", latency: 0) }
        request.body = .bytes(ByteBuffer(bytes: data))
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .init(timeout))
            guard response.status == .ok else {
                let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
                return .failed("HTTP \(response.status.code): \(text.prefix(200))", latency: seconds(.now))
            }
            var lines = SSEDataLines()
            var ttft: Double?, last = 0.0, itls: [Double] = [], chunks = 0
            var usage: (prompt: Int, completion: Int)?
            var done = false
            for try await buffer in response.body {
                for payload in lines.feed(buffer.readableBytesView) {
                    if payload == "[DONE]" { done = true; continue }
                    guard let event = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any] else { continue }
                    if let error = event["error"] as? [String: Any] {
                        return .failed("stream error: \(error["message"] as? String ?? "\(error)")", latency: seconds(.now))
                    }
                    if let u = event["usage"] as? [String: Any], let p = u["prompt_tokens"] as? Int, let c = u["completion_tokens"] as? Int {
                        usage = (p, c)
                    }
                    let text = ((event["choices"] as? [[String: Any]])?.first?["text"] as? String) ?? ""
                    guard !text.isEmpty else { continue }
                    let now = seconds(.now)
                    if let ttft { itls.append(now - max(last, ttft)) } else { ttft = now }
                    last = now
                    chunks += 1
                }
            }
            guard done, let ttft else {
                return .failed(done ? "the stream had no content" : "the stream ended without [DONE]", latency: seconds(.now))
            }
            return BenchRequestResult(
                success: true, promptTokens: usage?.prompt ?? 0, outputTokens: usage?.completion ?? chunks, ttft: ttft, itls: itls,
                latency: seconds(.now))
        } catch {
            return .failed("\(error)", latency: seconds(.now))
        }
    }

    /// Sends `prompts` at `arrivals` (seconds from the start), at most `maxConcurrency` in
    /// flight; `progress(done, total)` after each. The results in prompt order, and the
    /// duration from the first send to the last answer.
    public func runAll(
        _ prompts: [BenchPrompt], arrivals: [Double], maxConcurrency: Int,
        progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in }
    ) async -> (results: [BenchRequestResult], duration: Double) {
        let start = ContinuousClock.now
        var results = [BenchRequestResult?](repeating: nil, count: prompts.count)
        await withTaskGroup(of: (Int, BenchRequestResult).self) { group in
            var inFlight = 0, finished = 0
            func collect(_ next: (Int, BenchRequestResult)?) {
                guard let (i, r) = next else { return }
                results[i] = r
                inFlight -= 1
                finished += 1
                progress(finished, prompts.count)
            }
            for (i, prompt) in prompts.enumerated() {
                while inFlight >= maxConcurrency { collect(await group.next()) }
                let due = start + .milliseconds(Int64(arrivals[i] * 1000))
                if due > .now { try? await Task.sleep(until: due, clock: .continuous) }
                inFlight += 1
                group.addTask { (i, await self.run(prompt)) }
            }
            while inFlight > 0 { collect(await group.next()) }
        }
        return (results.map { $0 ?? .failed("not run", latency: 0) }, (ContinuousClock.now - start).seconds)
    }
}
