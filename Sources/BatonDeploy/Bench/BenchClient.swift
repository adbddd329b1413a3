// `baton bench`'s client: streaming `/v1/completions` requests against any OpenAI endpoint,
// timed chunk by chunk, sent on the workload's schedule with at most `maxConcurrency` in flight.

import AsyncHTTPClient
import Foundation
import NIOCore

public struct BenchClient: Sendable {
    /// The server's root, without a trailing `/` or `/v1`.
    public var url: String
    public var model: String
    public var apiKey: String?

    public init(url: String, model: String, apiKey: String?) {
        self.url = Self.root(url)
        self.model = model
        self.apiKey = apiKey
    }

    /// `http://h:8000/v1/` → `http://h:8000`: the endpoint's paths are added to this.
    static func root(_ url: String) -> String {
        var url = url
        while url.hasSuffix("/") { url.removeLast() }
        if url.hasSuffix("/v1") { url.removeLast(3) }
        return url
    }

    /// The first model `/v1/models` lists.
    public static func firstModel(url: String, apiKey: String?) async throws -> String {
        var request = HTTPClientRequest(url: root(url) + "/v1/models")
        if let apiKey { request.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        let http = httpClient(connections: 1)
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await http.execute(request, timeout: .seconds(30))
            body = try await response.body.collect(upTo: 1 << 20)
            try? await http.shutdown()
        } catch {
            try? await http.shutdown()
            throw BenchWorkloadError(description: "cannot reach \(root(url))/v1/models (\(error)); is the server up?")
        }
        struct Models: Decodable {
            struct Model: Decodable { var id: String }
            var data: [Model]
        }
        guard response.status == .ok, let first = try? JSONDecoder().decode(Models.self, from: Data(body.readableBytesView)).data.first else {
            throw BenchWorkloadError(description: "\(root(url))/v1/models answered \(response.status.code) with no model; pass --model")
        }
        return first.id
    }

    /// One streamed completion on `http`, timed as vLLM's benchmark times it: TTFT at the first
    /// chunk carrying a choice (even with empty text), an ITL for each later one, E2E at the
    /// last one. Output tokens are `usage.completion_tokens` when the stream reports usage, else
    /// the number of chunks carrying a choice.
    public func run(_ prompt: BenchPrompt, on http: HTTPClient, timeout: Duration = .seconds(600)) async -> BenchRequestResult {
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
            let response = try await http.execute(request, timeout: .init(timeout))
            guard response.status == .ok else {
                let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
                return .failed("HTTP \(response.status.code): \(text.prefix(200))", latency: seconds(.now))
            }
            var lines = SSEDataLines()
            var ttft: Double?, last = 0.0, itls: [Double] = [], chunks = 0
            var usage: (prompt: Int?, completion: Int)?
            var done = false
            for try await buffer in response.body {
                let now = seconds(.now)
                for payload in lines.feed(buffer.readableBytesView) {
                    if payload == "[DONE]" { done = true; continue }
                    guard let event = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any] else { continue }
                    if let message = Self.errorMessage(event) {
                        return .failed("stream error: \(message)", latency: now)
                    }
                    if let u = event["usage"] as? [String: Any], let c = u["completion_tokens"] as? Int {
                        usage = (u["prompt_tokens"] as? Int, c)
                    }
                    guard let choices = event["choices"] as? [Any], !choices.isEmpty else { continue }
                    if let ttft { itls.append(now - max(last, ttft)) } else { ttft = now }
                    last = now
                    chunks += 1
                }
            }
            guard done, let ttft else {
                return .failed(done ? "the stream had no choice" : "the stream ended without [DONE]", latency: seconds(.now))
            }
            return BenchRequestResult(
                success: true, promptTokens: usage?.prompt ?? prompt.estimatedPromptTokens ?? 0,
                outputTokens: usage?.completion ?? chunks, ttft: ttft, itls: itls, latency: last)
        } catch {
            return .failed("\(error)", latency: seconds(.now))
        }
    }

    /// A client of the bench's own: the shared one opens at most 8 connections to a host and
    /// queues every request past that inside the measured time (and fails it once it has waited
    /// the connect timeout). A refused connection fails its request at once, as in vLLM's
    /// benchmark, instead of being retried until the connect timeout.
    static func httpClient(connections: Int) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = connections
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(10)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    /// An error event's message: OpenAI's `{"error": {"message": …}}` or vLLM's older
    /// `{"object": "error", "message": …}`.
    static func errorMessage(_ event: [String: Any]) -> String? {
        if let error = event["error"] as? [String: Any] { return error["message"] as? String ?? "\(error)" }
        if let error = event["error"] as? String { return error }
        if event["object"] as? String == "error" { return event["message"] as? String ?? "\(event)" }
        return nil
    }

    /// Sends `prompts` at `arrivals` (seconds from the start; a request whose time has come
    /// waits for a free slot), at most `maxConcurrency` in flight on connections of its own;
    /// `progress(done, total)` after each. The results in prompt order, and the duration from
    /// the start to the last answer.
    public func runAll(
        _ prompts: [BenchPrompt], arrivals: [Double], maxConcurrency: Int,
        progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in }
    ) async -> (results: [BenchRequestResult], duration: Double) {
        precondition(arrivals.count == prompts.count && maxConcurrency >= 1)
        let http = Self.httpClient(connections: max(min(maxConcurrency, prompts.count), 1))
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
                let due = start + .microseconds(Int64(arrivals[i] * 1_000_000))
                if due > .now { try? await Task.sleep(until: due, clock: .continuous) }
                inFlight += 1
                group.addTask { (i, await self.run(prompt, on: http)) }
            }
            while inFlight > 0 { collect(await group.next()) }
        }
        let duration = (ContinuousClock.now - start).seconds
        try? await http.shutdown()
        return (results.map { $0 ?? .failed("not run", latency: 0) }, duration)
    }
}
