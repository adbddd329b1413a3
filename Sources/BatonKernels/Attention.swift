// Causal attention over a paged KV cache: each token attends to positions 0...pos of its own
// sequence, reading K and V through its sequence's block table (vLLM's layout; a contiguous
// cache is the case of one block per sequence).
//
//   q          (tokens, heads, headDim)        f32, RoPE applied
//   kCache     (slots, kvHeads, headDim)       f16, one layer
//   vCache     (slots, kvHeads, headDim)       f16, one layer
//   out        (tokens, heads, headDim)        f32
//   scratch    (threads, group, maxContext + headDim) f32 scores and the rounded query
//
// Grouped-query attention: `heads / kvHeads` query heads share one KV head, so each K and V row
// is loaded once for the whole group. As in ggml's attention over an f16 cache, q is rounded to
// f16 for q·k and the softmax weights are rounded to f16 for Σ p·v (products summed in f32).

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

/// Floats of scratch `attention` needs.
public func attentionScratchCount(threads: Int, group: Int, headDim: Int, maxContext: Int) -> Int {
    threads * group * (maxContext + headDim)
}

/// Attention for `tokens` tokens of one layer.
public func attention(
    q: UnsafePointer<Float>, kCache: UnsafePointer<Float16>, vCache: UnsafePointer<Float16>,
    out: UnsafeMutablePointer<Float>, tokens: Int, heads: Int, kvHeads: Int, headDim: Int,
    layout: AttentionLayout, scratch: UnsafeMutablePointer<Float>, maxContext: Int, pool: ThreadPool
) {
    let group = heads / kvHeads
    let kvDim = kvHeads * headDim
    let qDim = heads * headDim
    let scale = 1 / Float(headDim).squareRoot()
    let items = tokens * kvHeads
    pool.run { t, threads in
        let scores = scratch + t * group * (maxContext + headDim)
        let qRounded = scores + group * maxContext   // (group, headDim)
        for item in ThreadPool.range(of: items, part: t, parts: threads) {
            let token = item / kvHeads, g = item % kvHeads
            let sequence = Int(layout.sequences[token])
            let length = Int(layout.positions[token]) + 1
            let qBase = q + token * qDim + g * group * headDim
            for i in 0..<(group * headDim) { qRounded[i] = Float(Float16(qBase[i])) }
            // scores[h][p] = q_h · k_p · scale
            for p in 0..<length {
                let slot = layout.slot(sequence: sequence, position: p)
                let k = kCache + slot * kvDim + g * headDim
                for h in 0..<group {
                    scores[h * maxContext + p] = dotF16(qRounded + h * headDim, k, headDim) * scale
                }
            }
            for h in 0..<group {
                let row = scores + h * maxContext
                softmax(row, count: length)
                for p in 0..<length { row[p] = Float(Float16(row[p])) }
            }
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
                        acc.addProduct(loadHalfVector(v + c), weight)
                        storeVector(acc, o + c)
                        c += 16
                    }
                }
            }
        }
    }
}

/// Σ a[i]·b[i] for f32 `a` and f16 `b` (`count` a multiple of 16).
@inline(__always)
func dotF16(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float16>, _ count: Int) -> Float {
    var acc = SIMD16<Float>()
    var i = 0
    while i < count {
        acc.addProduct(loadVector(a + i), loadHalfVector(b + i))
        i += 16
    }
    return acc.sum()
}

@inline(__always)
func loadHalfVector(_ p: UnsafePointer<Float16>) -> SIMD16<Float> {
    halfFloats(UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float16>.self))
}
