// Causal attention over a paged KV cache: each token attends to positions 0...pos of its own
// sequence, reading K and V through its sequence's block table (vLLM's layout; a contiguous
// cache is the case of one block per sequence).
//
//   q          (tokens, heads, headDim)        f32, RoPE applied
//   kCache     (slots, kvHeads, headDim)       f32, one layer
//   vCache     (slots, kvHeads, headDim)       f32, one layer
//   out        (tokens, heads, headDim)        f32
//   scratch    (threads, group, maxContext)    f32 scores
//
// Grouped-query attention: `heads / kvHeads` query heads share one KV head, so each K and V row
// is loaded once for the whole group.

/// Where each token of a batch sits: its sequence and position, and each sequence's blocks.
public struct AttentionLayout: @unchecked Sendable {
    /// (tokens) position of each token within its sequence.
    public var positions: UnsafePointer<Int32>
    /// (tokens) index of each token's sequence in `blockTables`.
    public var sequences: UnsafePointer<Int32>
    /// (sequences, blocksPerSequence) physical block ids.
    public var blockTables: UnsafePointer<Int32>
    public var blocksPerSequence: Int
    public var blockSize: Int

    public init(
        positions: UnsafePointer<Int32>, sequences: UnsafePointer<Int32>,
        blockTables: UnsafePointer<Int32>, blocksPerSequence: Int, blockSize: Int
    ) {
        self.positions = positions
        self.sequences = sequences
        self.blockTables = blockTables
        self.blocksPerSequence = blocksPerSequence
        self.blockSize = blockSize
    }

    /// The cache slot of `position` in sequence `sequence`.
    @inline(__always)
    public func slot(sequence: Int, position: Int) -> Int {
        let block = Int(blockTables[sequence * blocksPerSequence + position / blockSize])
        return block * blockSize + position % blockSize
    }
}

/// Attention for `tokens` tokens of one layer; `scratch` holds `threads · group · maxContext`
/// floats.
public func attention(
    q: UnsafePointer<Float>, kCache: UnsafePointer<Float>, vCache: UnsafePointer<Float>,
    out: UnsafeMutablePointer<Float>, tokens: Int, heads: Int, kvHeads: Int, headDim: Int,
    layout: AttentionLayout, scratch: UnsafeMutablePointer<Float>, maxContext: Int, pool: ThreadPool
) {
    let group = heads / kvHeads
    let kvDim = kvHeads * headDim
    let qDim = heads * headDim
    let scale = 1 / Float(headDim).squareRoot()
    let items = tokens * kvHeads
    pool.run { t, threads in
        let scores = scratch + t * group * maxContext
        for item in ThreadPool.range(of: items, part: t, parts: threads) {
            let token = item / kvHeads, g = item % kvHeads
            let sequence = Int(layout.sequences[token])
            let length = Int(layout.positions[token]) + 1
            let qBase = q + token * qDim + g * group * headDim
            // scores[h][p] = q_h · k_p · scale
            for p in 0..<length {
                let slot = layout.slot(sequence: sequence, position: p)
                let k = kCache + slot * kvDim + g * headDim
                for h in 0..<group {
                    scores[h * maxContext + p] = dotF32(qBase + h * headDim, k, headDim) * scale
                }
            }
            for h in 0..<group { softmax(scores + h * maxContext, count: length) }
            // out_h = Σ_p scores[h][p] · v_p
            let oBase = out + token * qDim + g * group * headDim
            oBase.update(repeating: 0, count: group * headDim)
            for p in 0..<length {
                let slot = layout.slot(sequence: sequence, position: p)
                let v = vCache + slot * kvDim + g * headDim
                for h in 0..<group {
                    let weight = SIMD16<Float>(repeating: scores[h * maxContext + p])
                    let o = oBase + h * headDim
                    var c = 0
                    while c < headDim {
                        var acc = loadVector(o + c)
                        acc.addProduct(loadVector(v + c), weight)
                        storeVector(acc, o + c)
                        c += 16
                    }
                }
            }
        }
    }
}
