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
    private let scores: UnsafeMutablePointer<Float>   // (threads, group, maxContext + headDim)
    private let slots: UnsafeMutablePointer<Int>      // (T)
    private let logitInput: UnsafeMutablePointer<Float> // (L, hidden)
    private let logits: UnsafeMutablePointer<Float>   // (L, vocab)
    private let scratch: MatmulScratch
    private let activations: ActivationBuffer           // prepared input of the current matmuls
    /// ggml's RoPE θ scale base^(-2/headDim); θᵢ = pos · scaleⁱ as a running product.
    private let ropeThetaScale: Float

    public init(
        weights: LlamaWeights, maxBatchTokens: Int = 512, maxContext: Int? = nil,
        maxLogitRows: Int = 64, threads: Int, kernels: KernelOptions = KernelOptions()
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
        scores = buffer(attentionScratchCount(
            threads: pool.threadCount, group: c.headCount / c.kvHeadCount, headDim: c.headDim, maxContext: self.maxContext))
        slots = .allocate(capacity: t)
        logitInput = buffer(self.maxLogitRows * c.hiddenSize)
        logits = buffer(self.maxLogitRows * c.vocabSize)
        let maxK = max(c.hiddenSize, c.intermediateSize, c.qDim)
        scratch = MatmulScratch(maxK: maxK, threads: pool.threadCount, options: kernels)
        activations = ActivationBuffer(maxRows: max(t, self.maxLogitRows), maxCols: maxK)
        ropeThetaScale = powf(c.ropeTheta, -2 / Float(c.headDim))
    }

    /// out (+)= src · Wᵀ for `rows` rows (`src` prepared afresh).
    private func project(
        _ src: UnsafePointer<Float>, rows: Int, _ w: WeightMatrix, _ out: UnsafeMutablePointer<Float>, accumulate: Bool = false
    ) {
        let lanes = matmulReadsLanes(rows: rows, type: w.type, scratch: scratch)
        activations.prepare(src, rows: rows, cols: w.cols, for: w.type, lanes: lanes, pool: pool)
        matmul(activations, w, out, accumulate: accumulate, scratch: scratch, pool: pool)
    }

    /// outs[i] = src · W_iᵀ for weights of one activation format and width (q, k, v; gate, up):
    /// `src` prepared once (with the lanes if any of them reads them), then one parallel region.
    private func project(_ src: UnsafePointer<Float>, rows: Int, _ jobs: [(weight: WeightMatrix, out: UnsafeMutablePointer<Float>)]) {
        let first = jobs[0].weight
        guard jobs.allSatisfy({ $0.weight.type.activationFormat == first.type.activationFormat && $0.weight.cols == first.cols }) else {
            for job in jobs { project(src, rows: rows, job.weight, job.out) }
            return
        }
        let lanes = jobs.contains { matmulReadsLanes(rows: rows, type: $0.weight.type, scratch: scratch) }
        activations.prepare(src, rows: rows, cols: first.cols, for: first.type, lanes: lanes, pool: pool)
        matmul(activations, jobs, scratch: scratch, pool: pool)
    }

    /// body(i) for each token row i in 0..<n: the row-wise kernels (norms, RoPE, the K/V writes,
    /// SwiGLU) on the pool's threads once a batch has rows enough to pay a dispatch. Each row is
    /// computed alone, so the bits do not depend on the split.
    @inline(__always)
    private func eachRow(_ n: Int, _ body: (Int) -> Void) {
        if n < 4 || pool.threadCount == 1 {
            for i in 0..<n { body(i) }
            return
        }
        pool.run { t, threads in
            for i in ThreadPool.range(of: n, part: t, parts: threads) { body(i) }
        }
    }

    deinit {
        for p in [x, h, q, k, v, att, gate, up, cosSin, scores, logitInput, logits] { p.deallocate() }
        slots.deallocate()
    }

    /// Runs the batch, writing its K/V into `cache`, and returns the logits of the batch's
    /// `logitIndices` rows, (rows, vocab), valid until the next call.
    public func forward(_ batch: ForwardBatch, cache: some KVCacheStorage) -> UnsafeBufferPointer<Float> {
        let n = batch.count
        precondition(n >= 1 && n <= maxBatchTokens, "batch of \(n) tokens (max \(maxBatchTokens))")
        precondition(batch.logitIndices.count <= maxLogitRows, "too many logit rows")
        precondition(batch.promptLengths.isEmpty || batch.promptLengths.count * batch.blocksPerSequence == batch.blockTables.count,
                     "one prompt length per sequence")
        let c = config
        let d = c.hiddenSize, kvDim = c.kvDim, ffn = c.intermediateSize

        batch.tokens.withUnsafeBufferPointer { tokens in
        batch.positions.withUnsafeBufferPointer { positions in
        batch.sequences.withUnsafeBufferPointer { sequences in
        batch.blockTables.withUnsafeBufferPointer { blockTables in
        batch.promptLengths.withUnsafeBufferPointer { promptLengths in
            let layout = AttentionLayout(
                positions: positions.baseAddress!, sequences: sequences.baseAddress!,
                blockTables: blockTables.baseAddress!, blocksPerSequence: batch.blocksPerSequence,
                blockSize: cache.blockSize, promptLengths: promptLengths.isEmpty ? nil : promptLengths.baseAddress)
            for i in 0..<n {
                let position = Int(positions[i])
                precondition(position < maxContext, "position \(position) beyond the context \(maxContext)")
                slots[i] = layout.slot(sequence: Int(sequences[i]), position: position)
                precondition(slots[i] < cache.slotCount)
                ropeAngles(position: position, thetaScale: ropeThetaScale, headDim: c.headDim, cosSin: cosSin + i * c.headDim)
                let token = Int(tokens[i])
                precondition(token >= 0 && token < c.vocabSize, "token id \(token) out of range")
                dequantizeRow(weights.tokenEmbedding.type, weights.tokenEmbedding.row(token), x + i * d, count: d)
            }

            for (l, layer) in weights.layers.enumerated() {
                // Attention block.
                layer.attentionNorm.withUnsafeBufferPointer { w in
                    eachRow(n) { i in rmsNorm(x + i * d, w.baseAddress!, h + i * d, count: d, eps: c.rmsNormEps) }
                }
                project(h, rows: n, [(layer.wq, q), (layer.wk, k), (layer.wv, v)])
                // RoPE, then the token's K and V into its cache slot.
                eachRow(n) { i in
                    ropeNormal(q + i * c.qDim, heads: c.headCount, headDim: c.headDim, cosSin: cosSin + i * c.headDim)
                    ropeNormal(k + i * kvDim, heads: c.kvHeadCount, headDim: c.headDim, cosSin: cosSin + i * c.headDim)
                    let at = slots[i] * kvDim
                    switch cache.dtype {
                    case .f16:
                        storeHalfs(k + i * kvDim, cache.keys(layer: l) + at, count: kvDim)
                        storeHalfs(v + i * kvDim, cache.values(layer: l) + at, count: kvDim)
                    case .f32:
                        (cache.keysF32(layer: l) + at).update(from: k + i * kvDim, count: kvDim)
                        (cache.valuesF32(layer: l) + at).update(from: v + i * kvDim, count: kvDim)
                    }
                }
                switch cache.dtype {
                case .f16:
                    attention(
                        q: q, kCache: cache.keys(layer: l), vCache: cache.values(layer: l), out: att, tokens: n,
                        heads: c.headCount, kvHeads: c.kvHeadCount, headDim: c.headDim, layout: layout, scratch: scores,
                        maxContext: maxContext, pool: pool)
                case .f32:
                    attentionF32(
                        q: q, kCache: cache.keysF32(layer: l), vCache: cache.valuesF32(layer: l), out: att, tokens: n,
                        heads: c.headCount, kvHeads: c.kvHeadCount, headDim: c.headDim, layout: layout, scratch: scores,
                        maxContext: maxContext, pool: pool)
                }
                project(att, rows: n, layer.wo, x, accumulate: true)

                // Feed-forward block.
                layer.ffnNorm.withUnsafeBufferPointer { w in
                    eachRow(n) { i in rmsNorm(x + i * d, w.baseAddress!, h + i * d, count: d, eps: c.rmsNormEps) }
                }
                project(h, rows: n, [(layer.wGate, gate), (layer.wUp, up)])
                eachRow(n) { i in siluMul(gate + i * ffn, up + i * ffn, count: ffn) }
                project(gate, rows: n, layer.wDown, x, accumulate: true)
            }
        }}}}}

        let rows = batch.logitIndices.count
        guard rows > 0 else { return UnsafeBufferPointer(start: logits, count: 0) }
        weights.outputNorm.withUnsafeBufferPointer { w in
            for (r, i) in batch.logitIndices.enumerated() {
                precondition(i >= 0 && i < n)
                rmsNorm(x + i * d, w.baseAddress!, logitInput + r * d, count: d, eps: c.rmsNormEps)
            }
        }
        project(logitInput, rows: rows, weights.output, logits)
        return UnsafeBufferPointer(start: logits, count: rows * c.vocabSize)
    }
}
