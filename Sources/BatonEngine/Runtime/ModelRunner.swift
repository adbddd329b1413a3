// Runs one scheduled step: every scheduled token (prefill chunks and decodes of all requests)
// in one batched forward over the paged cache, then samples the requests whose chunk reached
// the end of their known tokens. vLLM's `GPUModelRunner.execute_model`, on the CPU.

import BatonModel
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

final class ModelRunner {
    let model: LlamaModel
    let cache: PagedKVCache
    private var batch = ForwardBatch()
    private var row: [Float]

    init(model: LlamaModel, cache: PagedKVCache) {
        self.model = model
        self.cache = cache
        row = [Float](repeating: 0, count: model.config.vocabSize)
    }

    /// Runs `output` and samples with each request's sampler; `logprobs[id]` asks for that
    /// many alternatives.
    func execute(
        _ output: SchedulerOutput, samplers: inout [String: Sampler], logprobs: [String: Int]
    ) -> [String: SampledToken] {
        batch.removeAll()
        let width = output.scheduled.map(\.blockTable.count).max() ?? 1
        batch.blocksPerSequence = max(1, width)
        var sampling: [String] = []
        for (s, r) in output.scheduled.enumerated() {
            batch.blockTables.append(contentsOf: r.blockTable.map { Int32($0) })
            batch.blockTables.append(contentsOf: repeatElement(0, count: width - r.blockTable.count))
            batch.promptLengths.append(Int32(r.promptLength))
            batch.append(r.tokenIds, sequence: Int32(s), startPosition: r.start, wantLogits: r.samples)
            if r.samples { sampling.append(r.requestId) }
        }
        let logits = model.forward(batch, cache: cache)
        let vocab = model.config.vocabSize
        var results: [String: SampledToken] = [:]
        for (i, id) in sampling.enumerated() {
            let rowLogits = UnsafeBufferPointer(rebasing: logits[(i * vocab)..<((i + 1) * vocab)])
            let wanted = logprobs[id]
            var result = SampledToken(
                token: row.withUnsafeMutableBufferPointer { samplers[id]!.sample(from: rowLogits, scratch: $0) }, logprob: nil)
            samplers[id]!.accept(result.token)
            if let wanted { result.logprob = Self.logprob(of: result.token, in: rowLogits, top: wanted) }
            results[id] = result
        }
        return results
    }

    /// log softmax(logits)[token] and the `top` best tokens.
    static func logprob(of token: Int32, in logits: UnsafeBufferPointer<Float>, top: Int) -> TokenLogprob {
        var best = -Float.infinity
        for v in logits where v > best { best = v }
        var sum: Double = 0
        for v in logits { sum += Double(expf(v - best)) }
        let logZ = best + Float(log(sum))
        var topList: [TopLogprob] = []
        if top > 0 {
            // Keep the `top` largest by insertion into a small sorted list.
            for (i, v) in logits.enumerated() where topList.count < top || v > topList[topList.count - 1].logprob {
                let entry = TopLogprob(token: Int32(i), logprob: v)
                let at = topList.firstIndex { $0.logprob < v } ?? topList.count
                topList.insert(entry, at: at)
                if topList.count > top { topList.removeLast() }
            }
            for j in topList.indices { topList[j].logprob -= logZ }
        }
        return TokenLogprob(token: token, logprob: logits[Int(token)] - logZ, top: topList)
    }
}
