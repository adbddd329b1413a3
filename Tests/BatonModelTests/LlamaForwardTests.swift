// The optimised forward pass on a tiny random Llama against the scalar reference: one batched
// prefill, token-by-token decode, chunked prefill, two sequences in one batch, every weight type.

import BatonKernels
import BatonTesting
import Testing
@testable import BatonModel

@Suite struct LlamaForwardTests {
    static func load(_ tiny: inout TinyLlama, threads: Int = 2) throws -> LlamaModel {
        let file = try GGUFFile(storage: MappedFile(bytes: tiny.makeFile()))
        let config = try LlamaConfiguration(gguf: file)
        return LlamaModel(weights: try LlamaWeights(file: file, config: config), maxBatchTokens: 16, maxContext: 64, threads: threads)
    }

    static let tokens: [Int32] = [5, 70, 100, 3, 200, 42, 9, 17, 250, 11]

    /// Against the f64 reference the engine differs by its llama.cpp-style rounding (Q8
    /// activations: up to amax/254 per value; f16 K, V, q and attention weights): on this tiny
    /// model's logits (|l| ≲ 5) that is ≲ 0.15. A wrong RoPE pairing, head grouping or norm is
    /// off by whole units.
    static let referenceTolerance = 0.2

    static func expectClose(_ got: UnsafeBufferPointer<Float>, _ want: [Double], _ label: String, tolerance: Double = referenceTolerance) {
        #expect(got.count == want.count)
        var worst = 0.0
        for (g, w) in zip(got, want) { worst = max(worst, abs(Double(g) - w)) }
        #expect(worst < tolerance, "\(label): max |Δlogit| = \(worst)")
    }

    @Test(arguments: [QuantType.q8_0, .q4_1, .q4_0, .f16, .f32], [1, 2])
    func batchedPrefillMatchesReference(type: QuantType, threads: Int) throws {
        var tiny = TinyLlama()
        tiny.weightType = type
        let model = try Self.load(&tiny, threads: threads)
        let reference = ReferenceLlama(tiny: tiny).logits(Self.tokens)
        let cache = ContiguousKVCache(config: model.config, maxContext: 64)
        var batch = ForwardBatch()
        batch.blockTables = [0]
        batch.append(Self.tokens, sequence: 0, startPosition: 0, wantLogits: false)
        batch.logitIndices = Array(Self.tokens.indices)
        let logits = model.forward(batch, cache: cache)
        let vocab = model.config.vocabSize
        for i in Self.tokens.indices {
            Self.expectClose(UnsafeBufferPointer(rebasing: logits[(i * vocab)..<((i + 1) * vocab)]), reference[i], "\(type) position \(i)")
        }
    }

    /// The kernels reproduce llama.cpp's rounding, so a chunk of several tokens runs exactly
    /// the arithmetic of the batched prefill (matmuls per row, attention in tinyBLAS order):
    /// equal bit for bit. A one-token step sums attention in ggml_vec_dot_f16's order, as
    /// llama.cpp's decode does, so it differs from the batch only by that rounding (~1e-6).
    @Test func decodeOneByOneAndChunkedPrefillAgree() throws {
        var tiny = TinyLlama()
        tiny.weightType = .q4_1
        let model = try Self.load(&tiny)
        let reference = ReferenceLlama(tiny: tiny).logits(Self.tokens)
        let vocab = model.config.vocabSize
        let whole = ContiguousKVCache(config: model.config, maxContext: 64)
        var all = ForwardBatch()
        all.blockTables = [0]
        all.append(Self.tokens, sequence: 0, startPosition: 0, wantLogits: false)
        all.logitIndices = Array(Self.tokens.indices)
        let batched = Array(model.forward(all, cache: whole))
        // Chunks of 3 and 4, then 3 single-token decodes.
        let cache = ContiguousKVCache(config: model.config, maxContext: 64)
        var position = 0
        for size in [3, 4, 1, 1, 1] {
            var batch = ForwardBatch()
            batch.blockTables = [0]
            batch.append(Self.tokens[position..<(position + size)], sequence: 0, startPosition: position, wantLogits: true)
            let logits = model.forward(batch, cache: cache)
            position += size
            Self.expectClose(logits, reference[position - 1], "after \(position) tokens")
            let same = batched[((position - 1) * vocab)..<(position * vocab)]
            if size > 1 {
                #expect(Array(logits) == Array(same), "chunk of \(size) vs batched after \(position) tokens")
            } else {
                Self.expectClose(logits, same.map(Double.init), "decode vs batched after \(position) tokens", tolerance: 1e-4)
            }
        }
    }

    @Test func twoSequencesInOneBatch() throws {
        var tiny = TinyLlama()
        let model = try Self.load(&tiny)
        let a = Array(Self.tokens[0..<6]), b: [Int32] = [33, 44, 55]
        let refA = ReferenceLlama(tiny: tiny).logits(a), refB = ReferenceLlama(tiny: tiny).logits(b)
        let cache = ContiguousKVCache(config: model.config, maxContext: 32, sequences: 2)
        var batch = ForwardBatch()
        batch.blockTables = [0, 1]
        batch.append(a, sequence: 0, startPosition: 0, wantLogits: true)
        batch.append(b, sequence: 1, startPosition: 0, wantLogits: true)
        let logits = model.forward(batch, cache: cache)
        let vocab = model.config.vocabSize
        Self.expectClose(UnsafeBufferPointer(rebasing: logits[0..<vocab]), refA[5], "sequence a")
        Self.expectClose(UnsafeBufferPointer(rebasing: logits[vocab..<(2 * vocab)]), refB[2], "sequence b")
    }

    @Test func generatorIsGreedyAndDeterministic() throws {
        var tiny = TinyLlama()
        let model = try Self.load(&tiny)
        let file = try GGUFFile(storage: MappedFile(bytes: tiny.makeFile()))
        let generator = TextGenerator(model: model, tokenizer: try Tokenizer(gguf: file))
        var first: [Int32] = [], second: [Int32] = []
        let (stats, _) = try generator.generate(prompt: Self.tokens, maxTokens: 8, sampling: .greedy) { first.append($0); return true }
        try generator.generate(prompt: Self.tokens, maxTokens: 8, sampling: .greedy) { second.append($0); return true }
        #expect(first == second)
        #expect(stats.promptTokens == Self.tokens.count)
        // The first generated token is the argmax of the reference's last logits (unless it is a
        // control token, which ends generation).
        let ref = ReferenceLlama(tiny: tiny).logits(Self.tokens).last!
        let best = Int32(ref.indices.max { ref[$0] < ref[$1] }!)
        if best >= 3 { #expect(first.first == best) } else { #expect(first.isEmpty) }
        #expect(throws: GenerationError.self) { try generator.generate(prompt: Self.tokens, maxTokens: 60, sampling: .greedy) { _ in true } }
    }
}
