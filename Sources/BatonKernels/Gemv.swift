// The decode path of the matmul: y[r] = W[r] · x for the rows `rows`, weights decoded in
// registers straight from the file's blocks, x prepared (ActivationBuffer.swift).
//
// Quantised weights follow ggml's vec_dot kernels (ggml_vec_dot_q4_1_q8_1, _q4_0_q8_0,
// _q8_0_q8_0, AVX2/VNNI path) to the bit: eight f32 lanes; per block, lane j gets the integer
// Σ_{t<4} q_w[4j+t]·q_x[4j+t] (exact as floats) times the f32 scale d_w·d_x by one FMA, blocks in
// order; Q4_1 adds its minimums as summs = fma(m_w, s_x, summs) block by block; the result is
// hsum_float_8(lanes) + summs, hsum_float_8 = ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)).
// Two rows share one SIMD16 (lanes 0–7 and 8–15); the GEMM (Matmul.swift) runs the same
// operations per (row, token), so decode, prefill and llama.cpp agree exactly.

/// y[r] (+)= W[r] · x for r in `rows`; x is a prepared row of `k` values (plus Q8 scales).
public func gemv(
    _ x: UnsafePointer<Float>, k: Int, _ w: WeightMatrix, _ y: UnsafeMutablePointer<Float>,
    rows: Range<Int>, accumulate: Bool
) {
    switch w.type {
    case .q4_1, .q4_0, .q8_0:
        var r = rows.lowerBound
        while r + 4 <= rows.upperBound {
            let v = quantDotQuad(w.type, w.row(r), w.row(r + 1), w.row(r + 2), w.row(r + 3), x, k)
            for i in 0..<4 { if accumulate { y[r + i] += v[i] } else { y[r + i] = v[i] } }
            r += 4
        }
        while r < rows.upperBound {
            let r1 = Swift.min(r + 1, rows.upperBound - 1)
            let v = quantDotQuad(w.type, w.row(r), w.row(r1), w.row(r), w.row(r1), x, k)
            if accumulate { y[r] += v[0] } else { y[r] = v[0] }
            if r1 != r { if accumulate { y[r1] += v[1] } else { y[r1] = v[1] } }
            r += 2
        }
    case .f32:
        for r in rows {
            let v = dotF32(x, w.row(r).assumingMemoryBound(to: Float.self), k)
            if accumulate { y[r] += v } else { y[r] = v }
        }
    case .f16:
        for r in rows {
            let row = w.row(r)
            var acc = SIMD16<Float>()
            var c = 0
            while c < k {
                let h = row.loadUnaligned(fromByteOffset: 2 * c, as: SIMD16<Float16>.self)
                acc.addProduct(halfFloats(h), loadVector(x + c))
                c += 16
            }
            if accumulate { y[r] += acc.sum() } else { y[r] = acc.sum() }
        }
    }
}

/// The dot products of four rows (same quantised type) with the prepared row `x`.
@inline(__always)
func quantDotQuad(
    _ type: QuantType, _ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ c: UnsafeRawPointer, _ d: UnsafeRawPointer,
    _ x: UnsafePointer<Float>, _ k: Int
) -> SIMD4<Float> {
    switch type {
    case .q4_1: quantDotQuad(a, b, c, d, x, k, blockBytes: 20, quantOffset: 4, hasMin: true, decode: nibbleLanesScaled)
    case .q4_0: quantDotQuad(a, b, c, d, x, k, blockBytes: 18, quantOffset: 2, hasMin: false, decode: nibbleLanesCentred)
    default: quantDotQuad(a, b, c, d, x, k, blockBytes: 34, quantOffset: 2, hasMin: false, decode: int8Lanes)
    }
}

/// Two row pairs at once, sharing the loads of x.
@inline(__always)
func quantDotQuad(
    _ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ c: UnsafeRawPointer, _ d: UnsafeRawPointer,
    _ x: UnsafePointer<Float>, _ k: Int,
    blockBytes: Int, quantOffset: Int, hasMin: Bool, decode: (UnsafeRawPointer, UnsafeRawPointer) -> BlockLanes
) -> SIMD4<Float> {
    let nb = k / 32
    var p0 = PairAcc(), p1 = PairAcc()
    var pa = a, pb = b, pc = c, pd = d
    for blk in 0..<nb {
        let xb = x + 32 * blk
        let x0 = dup8(xb), x1 = dup8(xb + 8), x2 = dup8(xb + 16), x3 = dup8(xb + 24)
        let dx = x[k + blk]
        let s: Float = hasMin ? x[k + nb + blk] : 0
        p0.add(decode(pa + quantOffset, pb + quantOffset), blockScales(pa, pb), x0, x1, x2, x3, dx: dx, s: s, hasMin: hasMin)
        p1.add(decode(pc + quantOffset, pd + quantOffset), blockScales(pc, pd), x0, x1, x2, x3, dx: dx, s: s, hasMin: hasMin)
        pa += blockBytes
        pb += blockBytes
        pc += blockBytes
        pd += blockBytes
    }
    let r0 = p0.result(hasMin: hasMin), r1 = p1.result(hasMin: hasMin)
    return SIMD4(r0.0, r0.1, r1.0, r1.1)
}

/// The running state of one row pair: eight lanes per row, and the summs of both rows in
/// lanes 1 and 3 (lanes 0 and 2 collect unused d·s).
@usableFromInline
struct PairAcc {
    var lanes = SIMD16<Float>()
    var mins = SIMD4<Float>()

    @inline(__always)
    mutating func add(
        _ w: BlockLanes, _ scales: SIMD4<Float>,
        _ x0: SIMD16<Float>, _ x1: SIMD16<Float>, _ x2: SIMD16<Float>, _ x3: SIMD16<Float>,
        dx: Float, s: Float, hasMin: Bool
    ) {
        let xy = w.dot(x0, x1, x2, x3)
        let dv = SIMD16(lowHalf: SIMD8(repeating: scales[0]), highHalf: SIMD8(repeating: scales[2])) * dx
        lanes.addProduct(dv, xy)
        if hasMin { mins.addProduct(scales, SIMD4(repeating: s)) }
    }

    @inline(__always)
    func result(hasMin: Bool) -> (Float, Float) {
        hasMin ? (hsum8(lanes.lowHalf) + mins[1], hsum8(lanes.highHalf) + mins[3])
               : (hsum8(lanes.lowHalf), hsum8(lanes.highHalf))
    }
}

/// The first four bytes of two blocks as f16s, to f32: (d_a, m_a, d_b, m_b) for Q4_1; for the
/// other types lanes 1 and 3 are unused.
@inline(__always)
func blockScales(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer) -> SIMD4<Float> {
    let words = SIMD2<UInt32>(a.loadUnaligned(as: UInt32.self), b.loadUnaligned(as: UInt32.self))
    let h = unsafeBitCast(words, to: SIMD4<Float16>.self)
    var r = SIMD4<Float>()
    for i in 0..<4 { r[i] = Float(h[i]) }
    return r
}

/// One block of two weight rows in lanes: w_t lane j = q[4j + t] of the first row (lanes 0–7)
/// and of the second (lanes 8–15), as exact floats.
@usableFromInline
struct BlockLanes {
    var w0, w1, w2, w3: SIMD16<Float>

    /// Per lane the integer Σ_t w_t·x_t (exact: |Σ| < 2²⁴).
    @inline(__always)
    func dot(_ x0: SIMD16<Float>, _ x1: SIMD16<Float>, _ x2: SIMD16<Float>, _ x3: SIMD16<Float>) -> SIMD16<Float> {
        var s = w0 * x0
        s.addProduct(w1, x1)
        s.addProduct(w2, x2)
        s.addProduct(w3, x3)
        return s
    }
}

/// Q4 nibbles (16 bytes per row; byte i holds value i low, value i + 16 high): word j of a row
/// holds values 4j…4j+3 in its low nibbles and 16+4j… in its high ones.
@inline(__always)
func nibbleLanes(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer) -> BlockLanes {
    let qa = a.loadUnaligned(as: SIMD4<UInt32>.self), qb = b.loadUnaligned(as: SIMD4<UInt32>.self)
    var v = SIMD16<UInt32>(lowHalf: SIMD8(lowHalf: qa, highHalf: qa), highHalf: SIMD8(lowHalf: qb, highHalf: qb))
    v &>>= SIMD16<UInt32>(0, 0, 0, 0, 4, 4, 4, 4, 0, 0, 0, 0, 4, 4, 4, 4)
    let f: UInt32 = 0x0F
    return BlockLanes(
        w0: smallFloats(v & f), w1: smallFloats((v &>> 8) & f),
        w2: smallFloats((v &>> 16) & f), w3: smallFloats((v &>> 24) & f))
}

/// As `nibbleLanes`, but each value left in place in its word: w_t = nibble · 2^(8t) in lanes
/// 0–3 and nibble · 2^(8t+4) in lanes 4–7 (exact floats), which Q8_1 activations undo exactly
/// (their q are stored times 2^-(8t) and 2^-(8t+4); ActivationBuffer.swift): one mask per t
/// instead of shifts, products and sums still the exact integers.
@inline(__always)
func nibbleLanesScaled(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer) -> BlockLanes {
    let qa = a.loadUnaligned(as: SIMD4<UInt32>.self), qb = b.loadUnaligned(as: SIMD4<UInt32>.self)
    let v = SIMD16<UInt32>(lowHalf: SIMD8(lowHalf: qa, highHalf: qa), highHalf: SIMD8(lowHalf: qb, highHalf: qb))
    @inline(__always) func mask(_ t: UInt32) -> SIMD16<UInt32> {
        let lo: UInt32 = 0x0F << (8 * t), hi: UInt32 = 0xF0 << (8 * t)
        return SIMD16(lo, lo, lo, lo, hi, hi, hi, hi, lo, lo, lo, lo, hi, hi, hi, hi)
    }
    return BlockLanes(
        w0: unsignedFloats(v & mask(0)), w1: unsignedFloats(v & mask(1)),
        w2: unsignedFloats(v & mask(2)), w3: unsignedFloats(v & mask(3)))
}

@inline(__always)
func unsignedFloats(_ v: SIMD16<UInt32>) -> SIMD16<Float> {
    var r = SIMD16<Float>()
    for i in 0..<16 { r[i] = Float(v[i]) }
    return r
}

@inline(__always)
func nibbleLanesCentred(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer) -> BlockLanes {
    let l = nibbleLanes(a, b)
    return BlockLanes(w0: l.w0 - 8, w1: l.w1 - 8, w2: l.w2 - 8, w3: l.w3 - 8)
}

/// Q8 values (32 signed bytes per row): word j holds values 4j…4j+3.
@inline(__always)
func int8Lanes(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer) -> BlockLanes {
    let v = SIMD16<Int32>(lowHalf: a.loadUnaligned(as: SIMD8<Int32>.self), highHalf: b.loadUnaligned(as: SIMD8<Int32>.self))
    return BlockLanes(
        w0: intFloats((v &<< 24) &>> 24), w1: intFloats((v &<< 16) &>> 24),
        w2: intFloats((v &<< 8) &>> 24), w3: intFloats(v &>> 24))
}

@inline(__always)
func smallFloats(_ v: SIMD16<UInt32>) -> SIMD16<Float> {
    intFloats(unsafeBitCast(v, to: SIMD16<Int32>.self))
}

@inline(__always)
func intFloats(_ v: SIMD16<Int32>) -> SIMD16<Float> {
    var r = SIMD16<Float>()
    for i in 0..<16 { r[i] = Float(v[i]) }
    return r
}

/// 8 floats at p, twice.
@inline(__always)
func dup8(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
    let h = UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    return SIMD16(lowHalf: h, highHalf: h)
}

/// ggml's hsum_float_8: ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)).
@inline(__always)
func hsum8(_ a: SIMD8<Float>) -> Float {
    let r = a.highHalf + a.lowHalf
    return (r[0] + r[2]) + (r[1] + r[3])
}


// MARK: - Multi-token GEMV (batched decode)

// A few activation rows (tokens) against quantised weights: each block of four weight rows is
// decoded once in registers, as the GEMV does, and applied to up to four tokens before the next
// block, so weights are read and decoded once per group of four tokens and nothing goes through
// memory (the GEMM's panels are decoded per 64-token chunk, which a decode step of 16 tokens
// cannot amortise). Per (row, token) the operations are exactly the GEMV's and the GEMM tile's:
// lane j = Σ_t w_t·x_t (exact), FMA'd with d_w·d_x block by block, Q4_1's
// summs = fma(m, s, summs), hsum_float_8 + summs; so all three paths agree bit for bit.
// With AVX-512 VNNI, matmul runs BatonKernelsC's vpdpbusd version of this instead (same bits;
// this one stays the fallback, chosen by MatmulScratch.useVNNI; MatmulTests run both).

/// out[i·n + r] (+)= W[r] · x_i for the tokens `tokens` (rows of x at stride `stride`) and the
/// weight rows `rows` (quads; a narrower tail reuses its last row in the unused slots).
func batchedGemv(
    _ x: UnsafePointer<Float>, stride: Int, tokens: Range<Int>, _ w: WeightMatrix,
    _ out: UnsafeMutablePointer<Float>, n: Int, rows: Range<Int>, accumulate: Bool
) {
    switch w.type {
    case .q4_1:
        batchedGemv(x, stride: stride, tokens: tokens, w, out, n: n, rows: rows, accumulate: accumulate,
                    blockBytes: 20, quantOffset: 4, hasMin: true, decode: nibbleLanesScaled)
    case .q4_0:
        batchedGemv(x, stride: stride, tokens: tokens, w, out, n: n, rows: rows, accumulate: accumulate,
                    blockBytes: 18, quantOffset: 2, hasMin: false, decode: nibbleLanesCentred)
    default:
        batchedGemv(x, stride: stride, tokens: tokens, w, out, n: n, rows: rows, accumulate: accumulate,
                    blockBytes: 34, quantOffset: 2, hasMin: false, decode: int8Lanes)
    }
}

@inline(__always)
func batchedGemv(
    _ x: UnsafePointer<Float>, stride: Int, tokens: Range<Int>, _ w: WeightMatrix,
    _ out: UnsafeMutablePointer<Float>, n: Int, rows: Range<Int>, accumulate: Bool,
    blockBytes: Int, quantOffset: Int, hasMin: Bool, decode: (UnsafeRawPointer, UnsafeRawPointer) -> BlockLanes
) {
    let k = w.cols
    var r = rows.lowerBound
    while r < rows.upperBound {
        let valid = Swift.min(4, rows.upperBound - r), last = rows.upperBound - 1
        let quad = (w.row(r), w.row(Swift.min(r + 1, last)), w.row(Swift.min(r + 2, last)), w.row(Swift.min(r + 3, last)))
        var i = tokens.lowerBound
        while i + 4 <= tokens.upperBound {
            batchedQuad(4, x + i * stride, stride: stride, quad, k: k, out + i * n + r, n: n, valid: valid, accumulate: accumulate,
                        blockBytes: blockBytes, quantOffset: quantOffset, hasMin: hasMin, decode: decode)
            i += 4
        }
        switch tokens.upperBound - i {
        case 3:
            batchedQuad(3, x + i * stride, stride: stride, quad, k: k, out + i * n + r, n: n, valid: valid, accumulate: accumulate,
                        blockBytes: blockBytes, quantOffset: quantOffset, hasMin: hasMin, decode: decode)
        case 2:
            batchedQuad(2, x + i * stride, stride: stride, quad, k: k, out + i * n + r, n: n, valid: valid, accumulate: accumulate,
                        blockBytes: blockBytes, quantOffset: quantOffset, hasMin: hasMin, decode: decode)
        case 1:
            batchedQuad(1, x + i * stride, stride: stride, quad, k: k, out + i * n + r, n: n, valid: valid, accumulate: accumulate,
                        blockBytes: blockBytes, quantOffset: quantOffset, hasMin: hasMin, decode: decode)
        default: break
        }
        r += 4
    }
}

/// One token's running state: the lanes of both row pairs and the four rows' summs.
struct BatchedAcc {
    var p0 = SIMD16<Float>(), p1 = SIMD16<Float>()
    var mins = SIMD4<Float>()

    @inline(__always)
    mutating func add(
        _ x: UnsafePointer<Float>, blk: Int, k: Int, nb: Int, hasMin: Bool,
        _ w0: BlockLanes, _ w1: BlockLanes, _ d0: SIMD16<Float>, _ d1: SIMD16<Float>, _ m: SIMD4<Float>
    ) {
        let xb = x + 32 * blk
        let x0 = dup8(xb), x1 = dup8(xb + 8), x2 = dup8(xb + 16), x3 = dup8(xb + 24)
        let dx = SIMD16<Float>(repeating: x[k + blk])
        p0.addProduct(d0 * dx, w0.dot(x0, x1, x2, x3))
        p1.addProduct(d1 * dx, w1.dot(x0, x1, x2, x3))
        if hasMin { mins.addProduct(m, SIMD4(repeating: x[k + nb + blk])) }
    }

    @inline(__always)
    func store(_ out: UnsafeMutablePointer<Float>, valid: Int, accumulate: Bool, hasMin: Bool) {
        var v = SIMD4(hsum8(p0.lowHalf), hsum8(p0.highHalf), hsum8(p1.lowHalf), hsum8(p1.highHalf))
        if hasMin { v += mins }
        if valid == 4 {
            store4(v, out, accumulate)
        } else {
            for i in 0..<valid { if accumulate { out[i] += v[i] } else { out[i] = v[i] } }
        }
    }
}

/// `tokens` (1–4) consecutive tokens at x against the four rows of `quad`.
@inline(__always)
func batchedQuad(
    _ tokens: Int, _ x: UnsafePointer<Float>, stride: Int,
    _ quad: (UnsafeRawPointer, UnsafeRawPointer, UnsafeRawPointer, UnsafeRawPointer), k: Int,
    _ out: UnsafeMutablePointer<Float>, n: Int, valid: Int, accumulate: Bool,
    blockBytes: Int, quantOffset: Int, hasMin: Bool, decode: (UnsafeRawPointer, UnsafeRawPointer) -> BlockLanes
) {
    let nb = k / 32
    var a0 = BatchedAcc(), a1 = BatchedAcc(), a2 = BatchedAcc(), a3 = BatchedAcc()
    let x1 = x + stride, x2 = x + 2 * stride, x3 = x + 3 * stride
    var pa = quad.0, pb = quad.1, pc = quad.2, pd = quad.3
    for blk in 0..<nb {
        let w0 = decode(pa + quantOffset, pb + quantOffset), w1 = decode(pc + quantOffset, pd + quantOffset)
        let s01 = blockScales(pa, pb), s23 = blockScales(pc, pd)
        let d0 = SIMD16(lowHalf: SIMD8(repeating: s01[0]), highHalf: SIMD8(repeating: s01[2]))
        let d1 = SIMD16(lowHalf: SIMD8(repeating: s23[0]), highHalf: SIMD8(repeating: s23[2]))
        let m = SIMD4(s01[1], s01[3], s23[1], s23[3])
        a0.add(x, blk: blk, k: k, nb: nb, hasMin: hasMin, w0, w1, d0, d1, m)
        if tokens > 1 { a1.add(x1, blk: blk, k: k, nb: nb, hasMin: hasMin, w0, w1, d0, d1, m) }
        if tokens > 2 { a2.add(x2, blk: blk, k: k, nb: nb, hasMin: hasMin, w0, w1, d0, d1, m) }
        if tokens > 3 { a3.add(x3, blk: blk, k: k, nb: nb, hasMin: hasMin, w0, w1, d0, d1, m) }
        pa += blockBytes
        pb += blockBytes
        pc += blockBytes
        pd += blockBytes
    }
    a0.store(out, valid: valid, accumulate: accumulate, hasMin: hasMin)
    if tokens > 1 { a1.store(out + n, valid: valid, accumulate: accumulate, hasMin: hasMin) }
    if tokens > 2 { a2.store(out + 2 * n, valid: valid, accumulate: accumulate, hasMin: hasMin) }
    if tokens > 3 { a3.store(out + 3 * n, valid: valid, accumulate: accumulate, hasMin: hasMin) }
}

@inline(__always)
func store4(_ v: SIMD4<Float>, _ p: UnsafeMutablePointer<Float>, _ accumulate: Bool) {
    let raw = UnsafeMutableRawPointer(p)
    if accumulate {
        raw.storeBytes(of: raw.loadUnaligned(as: SIMD4<Float>.self) + v, as: SIMD4<Float>.self)
    } else {
        raw.storeBytes(of: v, as: SIMD4<Float>.self)
    }
}
