// `baton generate`: one prompt through the engine in-process, streaming text to stdout and a
// last stderr line of timings.

import ArgumentParser
import BatonEngine
import BatonModel
import BatonRouter  // Duration.seconds
import Foundation

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Generate text for one prompt in-process.")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup(title: "Kernels") var kernels: KernelFlags
    @Option(help: "The prompt.") var prompt: String
    @Flag(help: "Wrap the prompt in the model's chat template as a user message.") var chat = false
    @Option(help: "System message (with --chat).") var system: String?
    @Option(help: "Tokens to generate at most.") var maxTokens: Int = 128
    @Option(help: "0 is greedy.") var temperature: Float = 0
    @Option(help: "Nucleus sampling mass.") var topP: Float = 1
    @Option(help: "Keep the k most likely tokens (0: off).") var topK: Int = 0
    @Option(help: "Drop tokens below min-p × the best probability.") var minP: Float = 0
    @Option(help: "Repetition penalty (1: off).") var repetitionPenalty: Float = 1
    @Option(help: "Presence penalty.") var presencePenalty: Float = 0
    @Option(help: "Frequency penalty.") var frequencyPenalty: Float = 0
    @Option(help: "Random seed.") var seed: UInt64?
    @Option(help: "Threads (default: all cores).") var threads: Int?
    @Option(help: "Context length (default 2048, at most the model's).") var contextLength: Int?
    @Flag(name: .customLong("ignore-eos"), help: "Keep generating past end-of-text tokens (for benchmarks).") var ignoreEOS = false

    func validate() throws {
        guard maxTokens >= 1 else { throw ValidationError("--max-tokens must be at least 1") }
        guard (0...2).contains(temperature) else { throw ValidationError("--temperature must be in [0, 2]") }
        guard topP > 0, topP <= 1 else { throw ValidationError("--top-p must be in (0, 1]") }
        guard (0...1).contains(minP) else { throw ValidationError("--min-p must be in [0, 1]") }
        guard topK >= 0 else { throw ValidationError("--top-k must be ≥ 0") }
        guard repetitionPenalty > 0 else { throw ValidationError("--repetition-penalty must be > 0") }
        if let threads { guard (1...256).contains(threads) else { throw ValidationError("--threads must be in 1...256") } }
        if let contextLength { guard contextLength >= 1 else { throw ValidationError("--context-length must be at least 1") } }
        if system != nil, !chat { throw ValidationError("--system needs --chat") }
    }

    func run() throws {
        let serving = try ServingModel.load(
            path: try modelOptions.resolvedPath(), threads: threads ?? ProcessInfo.processInfo.activeProcessorCount, kernels: kernels.options,
            scheduler: SchedulerConfig(maxNumSeqs: 1, maxNumBatchedTokens: 512, maxModelLen: contextLength ?? 2048))
        let model = serving.model, tokenizer = serving.tokenizer
        let context = serving.scheduler.maxModelLen

        let ids: [Int32]
        if chat {
            let template = try serving.chatTemplate.get()
            var messages: [ChatMessage] = []
            if let system { messages.append(ChatMessage(role: "system", content: system)) }
            messages.append(ChatMessage(role: "user", content: prompt))
            ids = tokenizer.encode(template.render(messages), addSpecial: true, parseSpecial: true)
        } else {
            ids = tokenizer.encode(prompt, addSpecial: true, parseSpecial: false)
        }
        guard maxTokens <= context - ids.count else {
            throw ValidationError("prompt (\(ids.count) tokens) + --max-tokens (\(maxTokens)) exceeds the context length \(context)")
        }

        let generator = TextGenerator(model: model, tokenizer: tokenizer)
        let sampling = SamplingParameters(
            temperature: temperature, topK: topK, topP: topP, minP: minP,
            repetitionPenalty: repetitionPenalty, presencePenalty: presencePenalty,
            frequencyPenalty: frequencyPenalty, seed: seed)
        var decoder = IncrementalDecoder()
        let (stats, _) = try generator.generate(prompt: ids, maxTokens: maxTokens, sampling: sampling, ignoreEOS: ignoreEOS) { token in
            let text = decoder.append(token, tokenizer: tokenizer)
            if !text.isEmpty {
                FileHandle.standardOutput.write(Data(text.utf8))
            }
            return true
        }
        let rest = decoder.flush()
        FileHandle.standardOutput.write(Data((rest + "\n").utf8))
        let line = String(
            format: "prompt_tokens=%d prefill_tok_s=%.2f generated_tokens=%d decode_tok_s=%.2f\n",
            stats.promptTokens, stats.prefillTokensPerSecond, stats.generatedTokens, stats.decodeTokensPerSecond)
        FileHandle.standardError.write(Data(line.utf8))
    }
}

struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the token ids of a text as a JSON array.")

    @OptionGroup var modelOptions: ModelOptions
    @Flag(help: "Recognise special tokens written in the text (<|im_start|>).") var special = false
    @Option(help: "Also encode the text N times and print the µs per encode to stderr: with a cache of merged pieces (as the router encodes) and without.")
    var time: Int?
    @Argument(help: "The text.") var text: String

    func validate() throws {
        if let time, !(1...10_000_000).contains(time) { throw ValidationError("--time must be in 1...10000000") }
    }

    func run() throws {
        let file = try GGUFFile(path: try modelOptions.resolvedPath())
        let tokenizer = try Tokenizer(gguf: file)
        let ids = tokenizer.encode(text, addSpecial: false, parseSpecial: special)
        let data = try JSONEncoder().encode(ids)
        print(String(decoding: data, as: UTF8.self))
        if let time {
            var cache = BPECache()
            func microseconds(_ encode: () -> [Int32]) throws -> Double {
                var tokens = 0
                let start = ContinuousClock.now
                for _ in 0..<time { tokens += encode().count }
                let elapsed = ContinuousClock.now - start
                guard tokens == ids.count * time else { throw ValidationError("encoding with the piece cache gave another number of tokens") }
                return elapsed.seconds * 1e6 / Double(time)
            }
            let cached = try microseconds { tokenizer.encode(text, parseSpecial: special, cache: &cache) }
            let uncached = try microseconds { tokenizer.encode(text, parseSpecial: special) }
            FileHandle.standardError.write(Data(String(format: "tokens=%d bytes=%d cached_us=%.2f uncached_us=%.2f\n", ids.count, text.utf8.count, cached, uncached).utf8))
        }
    }
}
