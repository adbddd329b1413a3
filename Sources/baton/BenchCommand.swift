// `baton bench`: a load generator against any OpenAI endpoint (a `baton serve`, a router, one
// engine, vLLM), with `vllm bench serve`'s metric definitions (docs/bench.md).

import ArgumentParser
import BatonDeploy
import Foundation

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load an OpenAI endpoint with streamed completions: TTFT, TPOT, ITL, E2E, throughput, goodput.")

    @Option(help: "The endpoint's root (its /v1/completions is used; a trailing /v1 is dropped).") var url = "http://127.0.0.1:8000"
    @Option(help: "Model name (default: the first one /v1/models lists).") var model: String?
    @Option(help: "random, or a JSONL file of {\"prompt\": …, \"output_len\": N} lines.") var dataset = "random"
    @Option(help: "Prompt tokens per random request (about: words of one token each).") var inputLen = 256
    @Option(help: "Output tokens per request (ignore_eos), unless the file's line says.") var outputLen = 128
    @Option(help: "Requests to send (a file's lines are cycled or cut to this; default: 100, or the file's count).") var numPrompts: Int?
    @Option(help: "Most requests in flight.") var maxConcurrency = 64
    @Option(help: "Mean requests per second, Poisson arrivals (default inf: all at once, capped by --max-concurrency).")
    var requestRate = "inf"
    @Option(help: "Seed of the random prompts and the arrivals.") var seed: UInt64 = 0
    @Option(help: "Goodput SLO: time to first token, ms.") var sloTtftMs: Double?
    @Option(help: "Goodput SLO: each request's time per output token, ms (vLLM's --goodput tpot:).") var sloItlMs: Double?
    @Option(help: "Also write every figure as JSON here.") var json: String?
    @Option(help: "API key (default: $OPENAI_API_KEY).") var apiKey: String?

    /// A failure after the flags were accepted: printed without the usage text.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    func rate() throws -> Double {
        if ["inf", "infinity"].contains(requestRate.lowercased()) { return .infinity }
        guard let r = Double(requestRate), r > 0, r.isFinite else {
            throw ValidationError("--request-rate must be a positive number or inf (got \(requestRate))")
        }
        return r
    }

    func validate() throws {
        _ = try rate()
        guard (1...1_000_000).contains(inputLen) else { throw ValidationError("--input-len must be in 1...1000000 (got \(inputLen))") }
        guard (1...1_000_000).contains(outputLen) else { throw ValidationError("--output-len must be in 1...1000000 (got \(outputLen))") }
        if let numPrompts, !(1...10_000_000).contains(numPrompts) {
            throw ValidationError("--num-prompts must be in 1...10000000 (got \(numPrompts))")
        }
        guard (1...100_000).contains(maxConcurrency) else {
            throw ValidationError("--max-concurrency must be in 1...100000 (got \(maxConcurrency))")
        }
        for (name, v) in [("--slo-ttft-ms", sloTtftMs), ("--slo-itl-ms", sloItlMs)] {
            if let v, !(v > 0 && v.isFinite) { throw ValidationError("\(name) must be a positive number of milliseconds (got \(v))") }
        }
        guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host?.isEmpty == false else {
            throw ValidationError("--url must be an http(s) URL such as http://127.0.0.1:8000 (got \(url))")
        }
        if dataset != "random", !FileManager.default.isReadableFile(atPath: dataset) {
            throw ValidationError("--dataset must be random or a readable JSONL file (no file at \(dataset))")
        }
    }

    func prompts() throws -> [BenchPrompt] {
        if dataset == "random" {
            return BenchWorkload.random(count: numPrompts ?? 100, inputTokens: inputLen, outputTokens: outputLen, seed: seed)
        }
        let text: String
        do {
            text = try String(contentsOfFile: dataset, encoding: .utf8)
        } catch {
            throw Failure(description: "cannot read \(dataset): \(error.localizedDescription)")
        }
        let all: [BenchPrompt]
        do {
            all = try BenchWorkload.jsonl(text, defaultOutputTokens: outputLen)
        } catch {
            throw Failure(description: "\(dataset): \(error)")
        }
        let n = numPrompts ?? all.count
        return (0..<n).map { all[$0 % all.count] }
    }

    func run() async throws {
        let key = apiKey ?? ProcessInfo.processInfo.environment["OPENAI_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        let prompts = try prompts()
        let modelName: String
        do {
            if let model { modelName = model } else { modelName = try await BenchClient.firstModel(url: url, apiKey: key) }
        } catch {
            throw Failure(description: "\(error)")
        }
        let client = BenchClient(url: url, model: modelName, apiKey: key)
        let rate = try rate()
        let arrivals = BenchWorkload.arrivals(count: prompts.count, rate: rate, seed: seed)
        let stderr = FileHandle.standardError
        stderr.write(Data("baton bench: \(prompts.count) requests to \(client.url) (\(modelName)), at most \(maxConcurrency) in flight, rate \(requestRate)\n".utf8))
        let (results, duration) = await client.runAll(prompts, arrivals: arrivals, maxConcurrency: maxConcurrency) { done, total in
            let width = 30, filled = done * width / max(total, 1)
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            stderr.write(Data("\r[\(bar)] \(done)/\(total)\(done == total ? "\n" : "")".utf8))
        }
        var summary = BenchSummary(results: results, duration: duration, sloTTFTms: sloTtftMs, sloTPOTms: sloItlMs)
        summary.settings = BenchSettings(
            url: client.url, model: modelName, dataset: dataset, numPrompts: prompts.count, maxConcurrency: maxConcurrency,
            requestRate: rate, seed: seed)
        print(summary.table)
        if summary.completed == 0 {
            stderr.write(Data("warning: every request failed; check --url, --model and the server's log\n".utf8))
        }
        if summary.failed > 0 {
            stderr.write(Data("\(summary.failed) of \(results.count) requests failed; first errors:\n".utf8))
            for error in summary.errors { stderr.write(Data("  \(error)\n".utf8)) }
        }
        if let json {
            do {
                try summary.json().write(to: URL(fileURLWithPath: json))
            } catch {
                throw Failure(description: "cannot write \(json): \(error.localizedDescription)")
            }
        }
    }
}
