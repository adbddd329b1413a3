// The decode path of the matmul: y[r] = W[r] · x for the rows `rows`, weights decoded in
// registers straight from the file's blocks, x prepared (Activations.swift).
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
        while r < rows.upperBound {
            let r1 = Swift.min(r + 1, rows.upperBound - 1)
            let (v0, v1) = quantDotPair(w.type, w.row(r), w.row(r1), x, k)
            if accumulate { y[r] += v0 } else { y[r] = v0 }
            if r1 != r { if accumulate { y[r1] += v1 } else { y[r1] = v1 } }
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

/// The dot products of rows `a` and `b` (same quantised type) with the prepared row `x`.
@inline(__always)
func quantDotPair(_ type: QuantType, _ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ k: Int) -> (Float, Float) {
    switch type {
    case .q4_1: quantDotPair(a, b, x, k, blockBytes: 20, quantOffset: 4, hasMin: true, decode: nibbleLanes)
    case .q4_0: quantDotPair(a, b, x, k, blockBytes: 18, quantOffset: 2, hasMin: false, decode: nibbleLanesCentred)
    default: quantDotPair(a, b, x, k, blockBytes: 34, quantOffset: 2, hasMin: false, decode: int8Lanes)
    }
}

@inline(__always)
func quantDotPair(
    _ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ k: Int,
    blockBytes: Int, quantOffset: Int, hasMin: Bool, decode: (UnsafeRawPointer, UnsafeRawPointer) -> BlockLanes
) -> (Float, Float) {
    let nb = k / 32
    var acc = SIMD16<Float>()
    var sa: Float = 0, sb: Float = 0
    var pa = a, pb = b
    for blk in 0..<nb {
        let w = decode(pa + quantOffset, pb + quantOffset)
        let xb = x + 32 * blk
        let xy = w.dot(dup8(xb), dup8(xb + 8), dup8(xb + 16), dup8(xb + 24))
        let dx = x[k + blk]
        let dv = SIMD16(lowHalf: SIMD8(repeating: halfToFloat(pa, 0) * dx), highHalf: SIMD8(repeating: halfToFloat(pb, 0) * dx))
        acc.addProduct(dv, xy)
        if hasMin {
            let s = x[k + nb + blk]
            sa.addProduct(halfToFloat(pa, 2), s)
            sb.addProduct(halfToFloat(pb, 2), s)
        }
        pa += blockBytes
        pb += blockBytes
    }
    return (hsum8(acc.lowHalf) + sa, hsum8(acc.highHalf) + sb)
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
