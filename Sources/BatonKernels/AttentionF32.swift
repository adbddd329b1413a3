// Causal attention over an f32 paged KV cache (`--kv-cache-dtype f32`): the same layout and
// grouped-query sharing as the f16 kernel (Attention.swift), without the f16 roundings of q and
// of the softmax weights; sums are plain SIMD16 FMAs over positions.
//
//   q          (tokens, heads, headDim)        f32, RoPE applied
//   kCache     (slots, kvHeads, headDim)       f32, one layer
//   vCache     (slots, kvHeads, headDim)       f32, one layer
//   out        (tokens, heads, headDim)        f32
//   scratch    as `attentionScratchCount`      scores per thread

/// Attention for `tokens` tokens of one layer over f32 K/V.
public func attentionF32(
    q: UnsafePointer<Float>, kCache: UnsafePointer<Float>, vCache: UnsafePointer<Float>,
    out: UnsafeMutablePointer<Float>, tokens: Int, heads: Int, kvHeads: Int, headDim: Int,
    layout: AttentionLayout, scratch: UnsafeMutablePointer<Float>, maxContext: Int, pool: ThreadPool
) {
    precondition(headDim % 16 == 0)
    let group = heads / kvHeads
    let kvDim = kvHeads * headDim
    let qDim = heads * headDim
    let scale = 1 / Float(headDim).squareRoot()
    let rowStride = (maxContext + 15) / 16 * 16
    let perThread = attentionThreadScratch(group: group, headDim: headDim, maxContext: maxContext)
    pool.run { t, threads in
        let scores = scratch + t * perThread   // (group, rowStride)
        for item in ThreadPool.range(of: tokens * kvHeads, part: t, parts: threads) {
            let token = item / kvHeads, g = item % kvHeads
            let sequence = Int(layout.sequences[token])
            let length = Int(layout.positions[token]) + 1
            let qBase = q + token * qDim + g * group * headDim
            for p in 0..<length {
                let k = kCache + layout.slot(sequence: sequence, position: p) * kvDim + g * headDim
                for h in 0..<group {
                    let qh = qBase + h * headDim
                    var acc = SIMD16<Float>()
                    var c = 0
                    while c < headDim {
                        acc.addProduct(loadVector(qh + c), loadVector(k + c))
                        c += 16
                    }
                    scores[h * rowStride + p] = acc.sum() * scale
                }
            }
            for h in 0..<group {
                softmax(scores + h * rowStride, count: length)
                let o = out + token * qDim + (g * group + h) * headDim
                var c = 0
                while c < headDim {
                    var acc = SIMD16<Float>()
                    for p in 0..<length {
                        let v = vCache + layout.slot(sequence: sequence, position: p) * kvDim + g * headDim
                        acc.addProduct(SIMD16(repeating: scores[h * rowStride + p]), loadVector(v + c))
                    }
                    storeVector(acc, o + c)
                    c += 16
                }
            }
        }
    }
}
