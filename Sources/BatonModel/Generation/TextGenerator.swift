// One prompt through the model in-process: chunked prefill, then a decode loop with sampling.
// This is `baton generate`'s engine and the reference the serving engine is checked against.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs single prompts against a model with its own contiguous KV cache.
public final class TextGenerator {
    public let model: LlamaModel
    public let tokenizer: Tokenizer
    private let cache: ContiguousKVCache
    private var batch = ForwardBatch()
    private var logits: [Float]

    public init(model: LlamaModel, tokenizer: Tokenizer) {
        self.model = model
        self.tokenizer = tokenizer
        cache = ContiguousKVCache(config: model.config, maxContext: model.maxContext)
        logits = [Float](repeating: 0, count: model.config.vocabSize)
    }

    /// Generates up to `maxTokens` after `prompt`, calling `onToken` with each token (return
    /// false to stop). Stops at a control token (end of turn / text), which is not passed on,
    /// unless `ignoreEOS` (benchmarks generate exactly `maxTokens`).
    @discardableResult
    public func generate(
        prompt: [Int32], maxTokens: Int, sampling: SamplingParameters, ignoreEOS: Bool = false,
        onToken: (Int32) -> Bool
    ) throws -> (GenerationStats, FinishReason) {
        var stats = GenerationStats()
        stats.promptTokens = prompt.count
        guard !prompt.isEmpty else { throw GenerationError.emptyPrompt }
        guard maxTokens >= 0, maxTokens <= model.maxContext - prompt.count else {
            throw GenerationError.contextOverflow(prompt: prompt.count, maxTokens: maxTokens, context: model.maxContext)
        }
        var sampler = Sampler(sampling, prompt: prompt)

        // Prefill in chunks of at most maxBatchTokens; logits only for the last position.
        let start = monotonicSeconds()
        var position = 0
        while position < prompt.count {
            let end = min(position + model.maxBatchTokens, prompt.count)
            batch.removeAll()
            batch.blockTables.append(0)
            batch.append(prompt[position..<end], sequence: 0, startPosition: position, wantLogits: end == prompt.count)
            let out = model.forward(batch, cache: cache)
            if end == prompt.count { copyLogits(out) }
            position = end
        }
        stats.prefillSeconds = monotonicSeconds() - start

        var reason = FinishReason.length
        let decodeStart = monotonicSeconds()
        while stats.generatedTokens < maxTokens {
            let token = logits.withUnsafeMutableBufferPointer { sampler.sample($0) }
            stats.generatedTokens += 1
            if !ignoreEOS, tokenizer.isControl(token) { reason = .stop; break }
            sampler.accept(token)
            guard onToken(token) else { reason = .stop; break }
            guard stats.generatedTokens < maxTokens else { break }
            batch.removeAll()
            batch.blockTables.append(0)
            batch.append(CollectionOfOne(token), sequence: 0, startPosition: position, wantLogits: true)
            copyLogits(model.forward(batch, cache: cache))
            position += 1
            stats.decodeSteps += 1
        }
        stats.decodeSeconds = monotonicSeconds() - decodeStart
        return (stats, reason)
    }

    /// Logits of the last position of `prompt` (for reference checks).
    public func promptLogits(_ prompt: [Int32]) -> [Float] {
        _ = try? generate(prompt: prompt, maxTokens: 0, sampling: .greedy) { _ in false }
        return logits
    }

    private func copyLogits(_ out: UnsafeBufferPointer<Float>) {
        logits.withUnsafeMutableBufferPointer { dst in
            dst.baseAddress!.update(from: out.baseAddress!, count: dst.count)
        }
    }
}

/// Seconds on a monotonic clock.
public func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}
