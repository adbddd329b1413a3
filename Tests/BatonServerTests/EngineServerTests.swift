// `baton engine` over real HTTP: errors are OpenAI-shaped, request ids come back, metrics carry
// vLLM's names, a client that disconnects frees its request, a full queue answers 429, and
// SIGTERM lets a running stream finish and exits 0.

import BatonOpenAI
import BatonTesting
import Foundation
import Testing

private func chat(_ content: String, maxTokens: Int = 8, stream: Bool = false, extra: String = "") -> String {
    #"{"model":"smollm2","messages":[{"role":"user","content":"\#(content)"}],"max_tokens":\#(maxTokens),"temperature":0,"stream":\#(stream)\#(extra)}"#
}

private func errorBody(_ text: String) throws -> APIError.Body {
    try JSONDecoder().decode(APIError.Body.self, from: Data(text.utf8))
}

/// The value of a metric line `name{labels} value` (first match).
private func metric(_ text: String, _ name: String, label: String = "") -> Double? {
    for line in text.split(separator: "\n") where line.hasPrefix(name + "{") && (label.isEmpty || line.contains(label)) {
        return Double(line.split(separator: " ").last ?? "")
    }
    return nil
}

@Suite(.serialized) struct EngineServerTests {
    @Test func badInputGetsOpenAIShapedErrors() async throws {
        let e = try await LiveEngine(extra: ["--max-model-len", "256", "--max-body-bytes", "4096"])
        defer { e.stop() }
        let cases: [(String, Int, String?)] = [
            ("{not json", 400, nil),
            (#"{"messages":"hi"}"#, 400, "messages"),
            (#"{"model":"smollm2"}"#, 400, "messages"),
            (#"{"messages":[]}"#, 400, "messages"),
            (chat("hi", maxTokens: 0), 400, "max_tokens"),
            (chat("hi", extra: #","temperature":2.5"#).replacingOccurrences(of: #""temperature":0,"#, with: ""), 400, "temperature"),
            (chat("hi", extra: #","top_p":0"#), 400, "top_p"),
            (chat("hi", maxTokens: 300), 400, "max_tokens"),
            (chat("hi", maxTokens: Int.max), 400, "max_tokens"),  // no overflow on the way to the error
            (#"{"model":"gpt-4","messages":[{"role":"user","content":"hi"}]}"#, 404, "model"),
            (#"{"messages":[{"role":"user","content":"hi"}],"max_tokens":"ten"}"#, 400, "max_tokens"),
            (#"{"messages":[{"role":"tool","content":"hi"}]}"#, 400, "messages"),
        ]
        for (body, status, param) in cases {
            let (code, text) = try await e.post("/v1/chat/completions", body)
            #expect(code == status, "\(body) → \(code) \(text)")
            let error = try errorBody(text)
            #expect(!error.error.message.isEmpty)
            #expect(error.error.param == param, "\(body)")
        }
        let (tooLong, text) = try await e.post("/v1/chat/completions", chat("hi", maxTokens: 300))
        #expect(tooLong == 400 && text.contains("256") && text.contains("300"), "says the numbers: \(text)")
        let big = chat(String(repeating: "a", count: 5000))
        #expect(try await e.post("/v1/chat/completions", big).0 == 413)
        #expect(try await e.post("/v1/completions", #"{"prompt":""}"#).0 == 400)
        #expect(try await e.post("/v1/completions", #"{"prompt":[49152]}"#).0 == 400)
        #expect(try await e.post("/v1/chat/completions", chat("hi"), key: "wrong").0 == 401)
        #expect(try await e.request("POST", "/v1/chat/completions", body: chat("hi")).0 == 401, "no key")
        #expect(try await e.get("/nothing").0 == 404)
        // Still serving after all that.
        #expect(try await e.post("/v1/chat/completions", chat("hi")).0 == 200)
    }

    @Test func requestIdsHealthTokenizeAndMetrics() async throws {
        let e = try await LiveEngine()
        defer { e.stop() }
        let echoed = try await LiveEngine.run("/usr/bin/curl", [
            "-s", "-D", "-", "-o", "/dev/null", e.baseURL + "/v1/chat/completions", "-H", "Authorization: Bearer \(e.apiKey)",
            "-H", "X-Request-Id: my-request-42", "-H", "Content-Type: application/json", "--data-binary", chat("hi"),
        ])
        #expect(echoed.lowercased().contains("x-request-id: my-request-42"))
        #expect(try await e.get("/health").0 == 200)

        let (_, tokens) = try await e.post("/tokenize", #"{"prompt":"Hello world"}"#)
        let tokenized = try JSONDecoder().decode(TokenizeResponse.self, from: Data(tokens.utf8))
        #expect(tokenized.count == tokenized.tokens.count && tokenized.count >= 2)
        let ids = tokenized.tokens.map(String.init).joined(separator: ",")
        let (_, detok) = try await e.post("/detokenize", #"{"tokens":[\#(ids)]}"#)
        #expect(try JSONDecoder().decode(DetokenizeResponse.self, from: Data(detok.utf8)).prompt.hasSuffix("Hello world"))

        let (status, text) = try await e.get("/metrics")
        #expect(status == 200)
        for name in [
            "vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc",
            "vllm:prefix_cache_queries_total", "vllm:prefix_cache_hits_total", "vllm:prompt_tokens_total",
            "vllm:generation_tokens_total", "vllm:num_preemptions_total", "vllm:request_success_total",
            "vllm:time_to_first_token_seconds_bucket", "vllm:inter_token_latency_seconds_bucket",
            "vllm:e2e_request_latency_seconds_bucket", "vllm:request_queue_time_seconds_bucket",
        ] {
            #expect(text.contains(name + "{"), "metric \(name)")
        }
        #expect(metric(text, "vllm:request_success_total", label: "finished_reason=\"length\"") == 1)
        #expect(metric(text, "vllm:generation_tokens_total") == 8)
        #expect(metric(text, "vllm:num_requests_running") == 0)
    }

    /// A completion without max_tokens stops at 16 tokens (OpenAI's and vLLM's default); a chat
    /// without it runs to the end of the context.
    @Test func completionsDefaultTo16TokensAndChatToTheContext() async throws {
        let e = try await LiveEngine(extra: ["--max-model-len", "64"])
        defer { e.stop() }
        let (code, text) = try await e.post("/v1/completions", #"{"model":"smollm2","prompt":"Hello","temperature":0,"ignore_eos":true}"#)
        #expect(code == 200, "\(text)")
        let completion = try JSONDecoder().decode(Completion.self, from: Data(text.utf8))
        #expect(completion.usage?.completionTokens == CompletionRequest.defaultMaxTokens, "\(text)")
        #expect(completion.choices.first?.finishReason == "length")

        let (chatCode, chatText) = try await e.post(
            "/v1/chat/completions", #"{"model":"smollm2","messages":[{"role":"user","content":"hi"}],"temperature":0,"ignore_eos":true}"#)
        #expect(chatCode == 200, "\(chatText)")
        let chat = try JSONDecoder().decode(ChatCompletion.self, from: Data(chatText.utf8))
        #expect(chat.usage.completionTokens > CompletionRequest.defaultMaxTokens)
        #expect(chat.usage.promptTokens + chat.usage.completionTokens == 64, "the rest of the context: \(chatText)")
        #expect(chat.choices.first?.finishReason == "length")

        // A prompt with less room than 16 gets the room, not an error.
        let (shortCode, shortText) = try await e.post(
            "/v1/completions", #"{"model":"smollm2","prompt":[\#((0..<60).map { _ in "28" }.joined(separator: ","))],"ignore_eos":true}"#)
        #expect(shortCode == 200, "\(shortText)")
        #expect(try JSONDecoder().decode(Completion.self, from: Data(shortText.utf8)).usage?.completionTokens == 4)
    }

    @Test func aClientThatDisconnectsFreesItsRequest() async throws {
        let e = try await LiveEngine()
        defer { e.stop() }
        var text = ""
        // Streaming (the next write fails) and whole (the connection's close cancels the wait).
        for (n, stream) in [true, false].enumerated() {
            let body = chat("Tell me a very long story.", maxTokens: 1500, stream: stream, extra: #","ignore_eos":true"#)
            _ = try await LiveEngine.run("/usr/bin/curl", [
                // Long enough for the request to be running on a loaded machine, far too short for 1,500 tokens.
                "-s", "-N", "--max-time", "3", e.baseURL + "/v1/chat/completions", "-H", "Authorization: Bearer \(e.apiKey)",
                "-H", "Content-Type: application/json", "--data-binary", body,
            ])
            for _ in 0..<50 {
                text = try await e.get("/metrics").1
                if metric(text, "vllm:num_requests_running") == 0, metric(text, "vllm:num_requests_waiting") == 0 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(metric(text, "vllm:num_requests_running") == 0, "stream: \(stream)")
            #expect(metric(text, "vllm:request_success_total", label: "finished_reason=\"abort\"") == Double(n + 1))
            #expect(metric(text, "vllm:kv_cache_usage_perc") == 0, "no block is referenced")
        }
        #expect((metric(text, "vllm:generation_tokens_total") ?? 0) < 3000)
    }

    @Test func idleConnectionsAreClosedAndLongStreamsAreNot() async throws {
        let e = try await LiveEngine(extra: ["--idle-timeout", "0.5"])
        defer { e.stop() }
        func request(_ body: String) -> String {
            "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(e.apiKey)\r\nContent-Type: application/json\r\n"
                + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
        }
        let partial = try await RawHTTP.untilClosed(port: e.port, send: "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n")
        #expect(partial.text.isEmpty && partial.seconds < 10, "\(partial)")
        let kept = try await RawHTTP.untilClosed(port: e.port, send: request(chat("hi", maxTokens: 2)))
        #expect(kept.text.hasPrefix("HTTP/1.1 200") && kept.seconds < 10, "\(kept)")
        // 200 tokens take well over the half second on this machine; the stream must go out whole.
        let streamed = try await RawHTTP.untilClosed(
            port: e.port, send: request(chat("Tell me a story.", maxTokens: 200, stream: true, extra: #","ignore_eos":true"#)))
        #expect(streamed.text.contains("data: [DONE]"), "\(streamed.text.suffix(300))")
        #expect(streamed.seconds > 0.5, "the stream outlasted the idle timeout (else this checks nothing)")
    }

    @Test func aFullQueueAnswers429WithRetryAfter() async throws {
        let e = try await LiveEngine(extra: ["--max-num-seqs", "1", "--max-waiting", "1"])
        defer { e.stop() }
        let long = chat("Tell me a story.", maxTokens: 150, extra: #","ignore_eos":true"#)
        async let first = e.post("/v1/chat/completions", long)
        try await Task.sleep(for: .milliseconds(300))
        async let second = e.post("/v1/chat/completions", long)
        try await Task.sleep(for: .milliseconds(300))
        let headers = try await LiveEngine.run("/usr/bin/curl", [
            "-s", "-D", "-", e.baseURL + "/v1/chat/completions", "-H", "Authorization: Bearer \(e.apiKey)",
            "-H", "Content-Type: application/json", "--data-binary", chat("hi"),
        ])
        #expect(headers.hasPrefix("HTTP/1.1 429"), "\(headers)")
        #expect(headers.lowercased().contains("retry-after: 1"))
        #expect(try await first.0 == 200)
        #expect(try await second.0 == 200)
    }

    @Test func sigtermLetsTheRunningStreamFinishAndExitsZero() async throws {
        let e = try await LiveEngine()
        let body = chat("Tell me a story.", maxTokens: 60, stream: true, extra: #","ignore_eos":true"#)
        async let streamed = LiveEngine.run("/usr/bin/curl", [
            "-s", "-N", e.baseURL + "/v1/chat/completions", "-H", "Authorization: Bearer \(e.apiKey)",
            "-H", "Content-Type: application/json", "--data-binary", body,
        ])
        try await Task.sleep(for: .milliseconds(400))
        kill(e.process.processIdentifier, SIGTERM)
        let text = try await streamed
        e.process.waitUntilExit()
        #expect(e.process.terminationStatus == 0)
        #expect(text.hasSuffix("data: [DONE]\n\n"))
        #expect(text.contains(#""finish_reason":"length""#), "the stream ran to its end")
    }
}
