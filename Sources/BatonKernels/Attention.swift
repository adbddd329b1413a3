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
// Grouped-query attention: `heads / kvHeads` query heads share one KV head. As in llama.cpp's
// attention over an f16 cache (non-flash path), q is rounded to f16 for q·k and the softmax
// weights are rounded to f16 for Σ p·v, and the sums follow ggml's order to the bit:
//   - prompt tokens (prefill): llamafile's tinyBLAS f16 GEMM, i.e. 16 lanes of sequential FMAs
//     over index l, l+16, … and _mm512_reduce_add_ps (8+8, 4+4, 2+2, 1+1);
//   - generated tokens (decode): ggml_vec_dot_f16, i.e. four 16-lane accumulators over steps
//     of 64, combined (0+2)+(1+3), then _mm512_reduce_add_ps, leftovers (< 64) added in double.
// Which order a token takes depends only on the token (its position against its sequence's
// prompt length), never on what else is in the batch, so a sequence batched with others, split
// into other prefill chunks, or resumed from the prefix cache computes the same bits as alone.
// Without prompt lengths (one sequence at a time), a batch of one token counts as decode.
// For Σ p·v the index is the position and llama.cpp's KV length is a multiple of 256 (padded
// with zero weights, which add nothing), so lane = position mod 16 (prefill) or 64 (decode).
// Softmax as ggml's (Elementwise.swift), scale applied to q·k first.

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
    /// (sequences) prompt length of each sequence: positions from it on are generated tokens
    /// and take the decode order. nil: a batch of one token is decode, any other prefill.
    public var promptLengths: UnsafePointer<Int32>?

    public init(
        positions: UnsafePointer<Int32>, sequences: UnsafePointer<Int32>,
        blockTables: UnsafePointer<Int32>, blocksPerSequence: Int, blockSize: Int,
        promptLengths: UnsafePointer<Int32>? = nil
    ) {
        self.positions = positions
        self.sequences = sequences
        self.blockTables = blockTables
        self.blocksPerSequence = blocksPerSequence
        self.blockSize = blockSize
        self.promptLengths = promptLengths
    }

    /// Whether token `token` of a `tokens`-token batch sums in the decode order.
    @inline(__always)
    public func isDecode(token: Int, tokens: Int) -> Bool {
        guard let promptLengths else { return tokens == 1 }
        return positions[token] >= promptLengths[Int(sequences[token])]
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
    threads * attentionThreadScratch(group: group, headDim: headDim, maxContext: maxContext)
}

@inline(__always)
func attentionThreadScratch(group: Int, headDim: Int, maxContext: Int) -> Int {
    group * ((maxContext + 15) / 16 * 16 + headDim) + 64 * headDim
}

/// Attention for `tokens` tokens of one layer.
public func attention(
    q: UnsafePointer<Float>, kCache: UnsafePointer<Float16>, vCache: UnsafePointer<Float16>,
    out: UnsafeMutablePointer<Float>, tokens: Int, heads: Int, kvHeads: Int, headDim: Int,
    layout: AttentionLayout, scratch: UnsafeMutablePointer<Float>, maxContext: Int, pool: ThreadPool
) {
    precondition(headDim % 16 == 0)
    let group = heads / kvHeads
    let kvDim = kvHeads * headDim
    let qDim = heads * headDim
    let scale = 1 / Float(headDim).squareRoot()
    let items = tokens * kvHeads
    let rowStride = (maxContext + 15) / 16 * 16
    let perThread = attentionThreadScratch(group: group, headDim: headDim, maxContext: maxContext)
    pool.run { t, threads in
        let scores = scratch + t * perThread
        let qRounded = scores + group * rowStride   // (group, headDim)
        let laneSums = qRounded + group * headDim   // (lanes, headDim)
        for item in ThreadPool.range(of: items, part: t, parts: threads) {
            let token = item / kvHeads, g = item % kvHeads
            let decode = layout.isDecode(token: token, tokens: tokens)
            let lanes = decode ? 64 : 16
            let sequence = Int(layout.sequences[token])
            let length = Int(layout.positions[token]) + 1
            let qBase = q + token * qDim + g * group * headDim
            for i in 0..<(group * headDim) { qRounded[i] = Float(Float16(qBase[i])) }
            // scores[h][p] = (q_h · k_p) · scale
            for p in 0..<length {
                let slot = layout.slot(sequence: sequence, position: p)
                let k = kCache + slot * kvDim + g * headDim
                for h in 0..<group {
                    let dot = decode ? dotF16VecDot(qRounded + h * headDim, k, headDim) : dotF16TinyBLAS(qRounded + h * headDim, k, headDim)
                    scores[h * rowStride + p] = dot * scale
                }
            }
            for h in 0..<group {
                let row = scores + h * rowStride
                softmax(row, count: length)
                for p in 0..<length { row[p] = Float(Float16(row[p])) }
            }
            // out_h = Σ_p scores[h][p] · v_p, lane (p mod lanes) per position
            for h in 0..<group {
                let weights = scores + h * rowStride
                for p in 0..<length {
                    let slot = layout.slot(sequence: sequence, position: p)
                    let v = vCache + slot * kvDim + g * headDim
                    let weight = SIMD16<Float>(repeating: weights[p])
                    let acc = laneSums + (p % lanes) * headDim
                    var c = 0
                    if p < lanes {
                        while c < headDim {
                            storeVector(loadHalfVector(v + c) * weight, acc + c)
                            c += 16
                        }
                    } else {
                        while c < headDim {
                            var a = loadVector(acc + c)
                            a.addProduct(weight, loadHalfVector(v + c))
                            storeVector(a, acc + c)
                            c += 16
                        }
                    }
                }
                // Lanes past the last position hold zeros (adding them changes nothing).
                let filled = Swift.min(length, lanes)
                let o = out + token * qDim + (g * group + h) * headDim
                var c = 0
                while c < headDim {
                    @inline(__always) func lane(_ l: Int) -> SIMD16<Float> { l < filled ? loadVector(laneSums + l * headDim + c) : SIMD16() }
                    var t0 = SIMD16<Float>(), t1 = t0, t2 = t0, t3 = t0, t4 = t0, t5 = t0, t6 = t0, t7 = t0
                    // 16 lanes T[l]; for decode T[l] = (A[l] + A[32+l]) + (A[16+l] + A[48+l]).
                    @inline(__always) func base(_ l: Int) -> SIMD16<Float> {
                        decode ? (lane(l) + lane(32 + l)) + (lane(16 + l) + lane(48 + l)) : lane(l)
                    }
                    // _mm512_reduce_add_ps over l: (T[l+8] + T[l]), then +4, +2, +1.
                    t0 = base(8) + base(0); t1 = base(9) + base(1); t2 = base(10) + base(2); t3 = base(11) + base(3)
                    t4 = base(12) + base(4); t5 = base(13) + base(5); t6 = base(14) + base(6); t7 = base(15) + base(7)
                    t0 = t4 + t0; t1 = t5 + t1; t2 = t6 + t2; t3 = t7 + t3
                    t0 = t2 + t0; t1 = t3 + t1
                    storeVector(t1 + t0, o + c)
                    c += 16
                }
            }
        }
    }
}

/// q·k as tinyBLAS's f16 GEMM computes one element: 16 lanes, FMAs over l, l+16, …, then
/// _mm512_reduce_add_ps. `count` a multiple of 16.
@inline(__always)
func dotF16TinyBLAS(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float16>, _ count: Int) -> Float {
    var acc = loadVector(a) * loadHalfVector(b)
    var i = 16
    while i < count {
        acc.addProduct(loadVector(a + i), loadHalfVector(b + i))
        i += 16
    }
    return reduceAdd16(acc)
}

/// q·k as ggml_vec_dot_f16 (AVX-512): four 16-lane accumulators over steps of 64, reduced
/// (0+2)+(1+3) then _mm512_reduce_add_ps, the rest added one by one in double.
@inline(__always)
func dotF16VecDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float16>, _ count: Int) -> Float {
    let np = count & ~63
    var s0 = SIMD16<Float>(), s1 = s0, s2 = s0, s3 = s0
    var i = 0
    while i < np {
        s0.addProduct(loadVector(a + i), loadHalfVector(b + i))
        s1.addProduct(loadVector(a + i + 16), loadHalfVector(b + i + 16))
        s2.addProduct(loadVector(a + i + 32), loadHalfVector(b + i + 32))
        s3.addProduct(loadVector(a + i + 48), loadHalfVector(b + i + 48))
        i += 64
    }
    var sum = Double(reduceAdd16((s0 + s2) + (s1 + s3)))
    while i < count {
        sum += Double(a[i] * Float(b[i]))
        i += 1
    }
    return Float(sum)
}

@inline(__always)
func loadHalfVector(_ p: UnsafePointer<Float16>) -> SIMD16<Float> {
    halfFloats(UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float16>.self))
}
