// The Llama forward pass over a batch of positions (llama2.c's `forward`, batched):
//
//   x = embed(tokens)
//   for each layer:
//     h = rmsnorm(x) ; q, k, v = h·Wqᵀ, h·Wkᵀ, h·Wvᵀ ; rope(q, k) ; cache[slot] = k, v
//     x += attention(q, cache) · Woᵀ
//     h = rmsnorm(x) ; x += (silu(h·Wgᵀ) ⊙ h·Wuᵀ) · Wdᵀ
//   logits = rmsnorm(x[wanted]) · Woutᵀ
//
// All buffers are allocated once for `maxBatchTokens`; nothing allocates per token.

import BatonKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A loaded Llama model with its preallocated run state. One forward at a time.
public final class LlamaModel: @unchecked Sendable {
    public let config: LlamaConfiguration
    public let weights: LlamaWeights
    public let maxBatchTokens: Int
    public let maxContext: Int
    public let maxLogitRows: Int
    public let pool: ThreadPool

    // Run state; shapes in tokens T = maxBatchTokens, logit rows L = maxLogitRows.
    private let x: UnsafeMutablePointer<Float>        // (T, hidden) residual stream
    private let h: UnsafeMutablePointer<Float>        // (T, hidden) normed input of a sub-block
    private let q: UnsafeMutablePointer<Float>        // (T, qDim)
    private let k: UnsafeMutablePointer<Float>        // (T, kvDim)
    private let v: UnsafeMutablePointer<Float>        // (T, kvDim)
    private let att: UnsafeMutablePointer<Float>      // (T, qDim) attention output
    private let gate: UnsafeMutablePointer<Float>     // (T, ffn)
    private let up: UnsafeMutablePointer<Float>       // (T, ffn)
    private let cosSin: UnsafeMutablePointer<Float>   // (T, headDim) (cos, sin) pairs
    private let invFreq: UnsafeMutablePointer<Float>  // (headDim / 2)
    private let scores: UnsafeMutablePointer<Float>   // (threads, group, maxContext)
    private let slots: UnsafeMutablePointer<Int>      // (T)
    private let logitInput: UnsafeMutablePointer<Float> // (L, hidden)
    private let logits: UnsafeMutablePointer<Float>   // (L, vocab)
    private let scratch: MatmulScratch

    public init(
        weights: LlamaWeights, maxBatchTokens: Int = 512, maxContext: Int? = nil,
        maxLogitRows: Int = 64, threads: Int
    ) {
        let c = weights.configuration
        config = c
        self.weights = weights
        self.maxBatchTokens = max(1, maxBatchTokens)
        self.maxContext = min(maxContext ?? c.contextLength, c.contextLength)
        self.maxLogitRows = max(1, maxLogitRows)
        pool = ThreadPool(threads: max(1, threads))
        let t = self.maxBatchTokens
        func buffer(_ count: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: count + 16)
            p.initialize(repeating: 0, count: count + 16)
            return p
        }
        x = buffer(t * c.hiddenSize)
        h = buffer(t * c.hiddenSize)
        q = buffer(t * c.qDim)
        k = buffer(t * c.kvDim)
        v = buffer(t * c.kvDim)
        att = buffer(t * c.qDim)
        gate = buffer(t * c.intermediateSize)
        up = buffer(t * c.intermediateSize)
        cosSin = buffer(t * c.headDim)
        invFreq = buffer(c.headDim / 2)
        scores = buffer(pool.threadCount * (c.headCount / c.kvHeadCount) * self.maxContext)
        slots = .allocate(capacity: t)
        logitInput = buffer(self.maxLogitRows * c.hiddenSize)
        logits = buffer(self.maxLogitRows * c.vocabSize)
        scratch = MatmulScratch(maxK: max(c.hiddenSize, c.intermediateSize, c.qDim), threads: pool.threadCount)
        // θᵢ = pos · base^(-2i/d), as ggml computes it: a running product of base^(-2/d).
        let thetaScale = powf(c.ropeTheta, -2 / Float(c.headDim))
        var theta: Float = 1
        for i in 0..<(c.headDim / 2) {
            invFreq[i] = theta
            theta *= thetaScale
        }
    }

    deinit {
        for p in [x, h, q, k, v, att, gate, up, cosSin, invFreq, scores, logitInput, logits] { p.deallocate() }
        slots.deallocate()
    }

    /// Runs the batch, writing its K/V into `cache`, and returns the logits of the batch's
    /// `logitIndices` rows, (rows, vocab), valid until the next call.
    public func forward(_ batch: ForwardBatch, cache: some KVCacheStorage) -> UnsafeBufferPointer<Float> {
        let n = batch.count
        precondition(n >= 1 && n <= maxBatchTokens, "batch of \(n) tokens (max \(maxBatchTokens))")
        precondition(batch.logitIndices.count <= maxLogitRows, "too many logit rows")
        let c = config
        let d = c.hiddenSize, kvDim = c.kvDim, ffn = c.intermediateSize

        batch.tokens.withUnsafeBufferPointer { tokens in
        batch.positions.withUnsafeBufferPointer { positions in
        batch.sequences.withUnsafeBufferPointer { sequences in
        batch.blockTables.withUnsafeBufferPointer { blockTables in
            let layout = AttentionLayout(
                positions: positions.baseAddress!, sequences: sequences.baseAddress!,
                blockTables: blockTables.baseAddress!, blocksPerSequence: batch.blocksPerSequence,
                blockSize: cache.blockSize)
            for i in 0..<n {
                let position = Int(positions[i])
                precondition(position < maxContext, "position \(position) beyond the context \(maxContext)")
                slots[i] = layout.slot(sequence: Int(sequences[i]), position: position)
                precondition(slots[i] < cache.slotCount)
                ropeAngles(position: position, invFreq: invFreq, headDim: c.headDim, cosSin: cosSin + i * c.headDim)
                let token = Int(tokens[i])
                precondition(token >= 0 && token < c.vocabSize, "token id \(token) out of range")
                dequantizeRow(weights.tokenEmbedding.type, weights.tokenEmbedding.row(token), x + i * d, count: d)
            }

            for (l, layer) in weights.layers.enumerated() {
                // Attention block.
                layer.attentionNorm.withUnsafeBufferPointer { w in
                    for i in 0..<n { rmsNorm(x + i * d, w.baseAddress!, h + i * d, count: d, eps: c.rmsNormEps) }
                }
                matmul(h, layer.wq, q, rows: n, scratch: scratch, pool: pool)
                matmul(h, layer.wk, k, rows: n, scratch: scratch, pool: pool)
                matmul(h, layer.wv, v, rows: n, scratch: scratch, pool: pool)
                let keys = cache.keys(layer: l), values = cache.values(layer: l)
                for i in 0..<n {
                    ropeNormal(q + i * c.qDim, heads: c.headCount, headDim: c.headDim, cosSin: cosSin + i * c.headDim)
                    ropeNormal(k + i * kvDim, heads: c.kvHeadCount, headDim: c.headDim, cosSin: cosSin + i * c.headDim)
                    (keys + slots[i] * kvDim).update(from: k + i * kvDim, count: kvDim)
                    (values + slots[i] * kvDim).update(from: v + i * kvDim, count: kvDim)
                }
                attention(
                    q: q, kCache: keys, vCache: values, out: att, tokens: n, heads: c.headCount,
                    kvHeads: c.kvHeadCount, headDim: c.headDim, layout: layout, scratch: scores,
                    maxContext: maxContext, pool: pool)
                matmul(att, layer.wo, x, rows: n, accumulate: true, scratch: scratch, pool: pool)

                // Feed-forward block.
                layer.ffnNorm.withUnsafeBufferPointer { w in
                    for i in 0..<n { rmsNorm(x + i * d, w.baseAddress!, h + i * d, count: d, eps: c.rmsNormEps) }
                }
                matmul(h, layer.wGate, gate, rows: n, scratch: scratch, pool: pool)
                matmul(h, layer.wUp, up, rows: n, scratch: scratch, pool: pool)
                siluMul(gate, up, count: n * ffn)
                matmul(gate, layer.wDown, x, rows: n, accumulate: true, scratch: scratch, pool: pool)
            }
        }}}}

        let rows = batch.logitIndices.count
        guard rows > 0 else { return UnsafeBufferPointer(start: logits, count: 0) }
        weights.outputNorm.withUnsafeBufferPointer { w in
            for (r, i) in batch.logitIndices.enumerated() {
                precondition(i >= 0 && i < n)
                rmsNorm(x + i * d, w.baseAddress!, logitInput + r * d, count: d, eps: c.rmsNormEps)
            }
        }
        matmul(logitInput, weights.output, logits, rows: rows, scratch: scratch, pool: pool)
        return UnsafeBufferPointer(start: logits, count: rows * c.vocabSize)
    }
}
