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

import BatonKernelsC

/// Floats of scratch `attention` needs.
public func attentionScratchCount(threads: Int, group: Int, headDim: Int, maxContext: Int) -> Int {
    threads * attentionThreadScratch(group: group, headDim: headDim, maxContext: maxContext)
}

@inline(__always)
func attentionThreadScratch(group: Int, headDim: Int, maxContext: Int) -> Int {
    // scores, the rounded query, one K/V row, the lane sums, and (AVX-512 path) the slot rows as Ints.
    group * ((maxContext + 15) / 16 * 16 + headDim) + headDim + group * 64 * headDim + 2 * maxContext + 16
}

/// Whether the CPU has what Attention.c's kernels need (AVX-512 F/BW/VL, F16C, FMA): attention's
/// items and the f16 K/V writes (`storeHalfs`) run there.
public let avx512Available = baton_avx512_available() != 0

/// Whether `attention` takes the AVX-512 item kernel (Attention.c, same bits) for this shape.
@inline(__always)
func attentionTakesAVX512(group: Int, headDim: Int) -> Bool {
    headDim % 64 == 0 && headDim <= 128 && group <= 8
}

/// Attention for `tokens` tokens of one layer.
///
/// Per (token, KV head) item, positions are walked block by block through the block table (a
/// slot is the block's base plus the offset, no division per position), and each K and V row
/// is converted from f16 once and used by every query head of the group. Every sum still takes
/// exactly the order described above: only the order in which independent sums advance changed.
public func attention(
    q: UnsafePointer<Float>, kCache: UnsafePointer<Float16>, vCache: UnsafePointer<Float16>,
    out: UnsafeMutablePointer<Float>, tokens: Int, heads: Int, kvHeads: Int, headDim: Int,
    layout: AttentionLayout, scratch: UnsafeMutablePointer<Float>, maxContext: Int, pool: ThreadPool,
    avx512: Bool = avx512Available
) {
    precondition(headDim % 16 == 0)
    let group = heads / kvHeads
    let vectorized = avx512 && attentionTakesAVX512(group: group, headDim: headDim)
    let keys = UnsafePointer<UInt16>(OpaquePointer(kCache)), values = UnsafePointer<UInt16>(OpaquePointer(vCache))
    let kvDim = kvHeads * headDim
    let qDim = heads * headDim
    let scale = 1 / Float(headDim).squareRoot()
    let items = tokens * kvHeads
    let rowStride = (maxContext + 15) / 16 * 16
    let perThread = attentionThreadScratch(group: group, headDim: headDim, maxContext: maxContext)
    let blockSize = layout.blockSize
    pool.run { t, threads in
        let scores = scratch + t * perThread           // (group, rowStride)
        let qRounded = scores + group * rowStride      // (group, headDim)
        let row = qRounded + group * headDim           // (headDim) the current K or V row in f32
        let laneSums = row + headDim                   // (lanes, group, headDim)
        // (maxContext) Ints, 8-byte aligned: the slot rows of the C item's positions.
        let rows = UnsafeMutableRawPointer(laneSums + group * 64 * headDim).alignedUp(for: Int.self).assumingMemoryBound(to: Int.self)
        let mine = ThreadPool.range(of: items, part: t, parts: threads)
        for item in mine {
            let token = item / kvHeads, g = item % kvHeads
            // The token's first item on this thread prefetches whole slot rows (every KV head's
            // part): its other items, next, find theirs in cache.
            let prefetching = g == 0 || item == mine.lowerBound
            let decode = layout.isDecode(token: token, tokens: tokens)
            let lanes = decode ? 64 : 16
            let table = layout.blockTables + Int(layout.sequences[token]) * layout.blocksPerSequence
            let length = Int(layout.positions[token]) + 1
            let qBase = q + token * qDim + g * group * headDim
            for i in 0..<(group * headDim) { qRounded[i] = Float(Float16(qBase[i])) }
            if vectorized {
                // Attention.c's item: the same sums as below, in the same order.
                baton_attention_scores(
                    qRounded, keys, values, table, layout.blockSize, kvDim, g * headDim, length, decode ? 1 : 0, scale,
                    Int32(group), headDim, scores, rowStride, rows, prefetching ? 1 : 0)
                for h in 0..<group { softmax(scores + h * rowStride, count: length) }
                baton_attention_values(
                    scores, rowStride, values, rows, g * headDim, length, decode ? 1 : 0, Int32(group), headDim, laneSums,
                    out + token * qDim + g * group * headDim)
                continue
            }
            // scores[h][p] = (q_h · k_p) · scale
            var p = 0, block = 0
            if prefetching { prefetchRows(kCache, table, 0, length: length, blockSize: blockSize, kvDim: kvDim) }
            while p < length {
                let base = Int(table[block]) * blockSize - p   // slot of position x: base + x
                let end = Swift.min(p + blockSize, length)
                let ahead = prefetching ? upcomingRows(kCache, table, block + 1, length: length, blockSize: blockSize, kvDim: kvDim) : nil
                while p < end {
                    if let ahead { ahead.prefetch(row: blockSize - (end - p), kvDim: kvDim) }
                    convertHalfRow(kCache + (base + p) * kvDim + g * headDim, row, headDim)
                    for h in 0..<group {
                        let dot = decode ? dotVecDot(qRounded + h * headDim, row, headDim) : dotTinyBLAS(qRounded + h * headDim, row, headDim)
                        scores[h * rowStride + p] = dot * scale
                    }
                    p += 1
                }
                block += 1
            }
            if prefetching { prefetchRows(vCache, table, 0, length: length, blockSize: blockSize, kvDim: kvDim) }
            for h in 0..<group {
                let weights = scores + h * rowStride
                softmax(weights, count: length)
                for p in 0..<length { weights[p] = Float(Float16(weights[p])) }
            }
            // out_h = Σ_p scores[h][p] · v_p, lane (p mod lanes) per position
            p = 0
            block = 0
            while p < length {
                let base = Int(table[block]) * blockSize - p
                let end = Swift.min(p + blockSize, length)
                let ahead = prefetching ? upcomingRows(vCache, table, block + 1, length: length, blockSize: blockSize, kvDim: kvDim) : nil
                while p < end {
                    if let ahead { ahead.prefetch(row: blockSize - (end - p), kvDim: kvDim) }
                    convertHalfRow(vCache + (base + p) * kvDim + g * headDim, row, headDim)
                    let laneBase = laneSums + (p & (lanes - 1)) * group * headDim
                    for h in 0..<group {
                        let weight = SIMD16<Float>(repeating: scores[h * rowStride + p])
                        let acc = laneBase + h * headDim
                        var c = 0
                        if p < lanes {
                            while c < headDim {
                                storeVector(loadVector(row + c) * weight, acc + c)
                                c += 16
                            }
                        } else {
                            while c < headDim {
                                var a = loadVector(acc + c)
                                a.addProduct(weight, loadVector(row + c))
                                storeVector(a, acc + c)
                                c += 16
                            }
                        }
                    }
                    p += 1
                }
                block += 1
            }
            // Lanes past the last position hold zeros (adding them changes nothing).
            let filled = Swift.min(length, lanes)
            for h in 0..<group {
                let sums = laneSums + h * headDim
                let o = out + token * qDim + (g * group + h) * headDim
                var c = 0
                while c < headDim {
                    @inline(__always) func lane(_ l: Int) -> SIMD16<Float> { l < filled ? loadVector(sums + l * group * headDim + c) : SIMD16() }
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

/// The slot rows of block `block` of a sequence's table that the sequence reaches, to prefetch
/// one at a time while the block before is read: a steady stream of prefetches keeps more lines
/// in flight than a burst per block, and the blocks are scattered over the pool, which the
/// hardware prefetchers do not foresee (random 6 KiB blocks read ~40% faster so here).
struct UpcomingRows {
    let start: UnsafePointer<Float16>
    let rows: Int

    @inline(__always)
    func prefetch(row r: Int, kvDim: Int) {
        guard r < rows else { return }
        let line = UnsafeRawPointer(start + r * kvDim)
        var byte = 0
        while byte < kvDim * 2 {
            baton_prefetch(line + byte)
            byte += 64
        }
    }
}

@inline(__always)
func upcomingRows(
    _ cache: UnsafePointer<Float16>, _ table: UnsafePointer<Int32>, _ block: Int, length: Int, blockSize: Int, kvDim: Int
) -> UpcomingRows? {
    let first = block * blockSize
    guard first < length else { return nil }
    return UpcomingRows(start: cache + Int(table[block]) * blockSize * kvDim, rows: Swift.min(blockSize, length - first))
}

/// Prefetches all the rows of block `block` at once (the first block of a pass).
@inline(__always)
func prefetchRows(_ cache: UnsafePointer<Float16>, _ table: UnsafePointer<Int32>, _ block: Int, length: Int, blockSize: Int, kvDim: Int) {
    guard let rows = upcomingRows(cache, table, block, length: length, blockSize: blockSize, kvDim: kvDim) else { return }
    for r in 0..<rows.rows { rows.prefetch(row: r, kvDim: kvDim) }
}

/// dst (count) = src (count) f16 → f32 (exact); `count` a multiple of 16.
@inline(__always)
func convertHalfRow(_ src: UnsafePointer<Float16>, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
    var c = 0
    while c < count {
        storeVector(loadHalfVector(src + c), dst + c)
        c += 16
    }
}

/// q·k as tinyBLAS's f16 GEMM computes one element (k already converted from f16, exactly):
/// 16 lanes, FMAs over l, l+16, …, then _mm512_reduce_add_ps. `count` a multiple of 16.
@inline(__always)
func dotTinyBLAS(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
    var acc = loadVector(a) * loadVector(b)
    var i = 16
    while i < count {
        acc.addProduct(loadVector(a + i), loadVector(b + i))
        i += 16
    }
    return reduceAdd16(acc)
}

/// q·k as ggml_vec_dot_f16 (AVX-512; k already converted from f16, exactly): four 16-lane
/// accumulators over steps of 64, reduced (0+2)+(1+3) then _mm512_reduce_add_ps, the rest
/// added one by one in double.
@inline(__always)
func dotVecDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
    let np = count & ~63
    var s0 = SIMD16<Float>(), s1 = s0, s2 = s0, s3 = s0
    var i = 0
    while i < np {
        s0.addProduct(loadVector(a + i), loadVector(b + i))
        s1.addProduct(loadVector(a + i + 16), loadVector(b + i + 16))
        s2.addProduct(loadVector(a + i + 32), loadVector(b + i + 32))
        s3.addProduct(loadVector(a + i + 48), loadVector(b + i + 48))
        i += 64
    }
    var sum = Double(reduceAdd16((s0 + s2) + (s1 + s3)))
    while i < count {
        sum += Double(a[i] * b[i])
        i += 1
    }
    return Float(sum)
}

@inline(__always)
func loadHalfVector(_ p: UnsafePointer<Float16>) -> SIMD16<Float> {
    halfFloats(UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float16>.self))
}
