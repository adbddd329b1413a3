// Vectorised transcendental functions: exp for softmax and SiLU, in the Cephes style
// (range reduction by ln 2, a degree-6 polynomial, 2ⁿ built in the exponent bits).
// Relative error ≈ 2 ulp; inputs below -87.3 give ≈ 1e-38 instead of 0, which no softmax or
// SiLU can tell apart.
//
// Written with plain arithmetic and bit casts only: the stdlib's generic SIMD helpers
// (`clamped`, `rounded`, integer conversions) are not inlined and run lane by lane.

/// 1.5 · 2²³: adding it rounds a float of magnitude < 2²² to an integer held in the low
/// mantissa bits.
@usableFromInline let roundingMagic: Float = 12_582_912

@inline(__always)
public func expVector(_ x: SIMD16<Float>) -> SIMD16<Float> {
    var v = x
    for i in 0..<16 { v[i] = Swift.min(Swift.max(v[i], -87.3), 88.3) }
    let shifted = v * 1.442695040888963 + roundingMagic
    let n = shifted - roundingMagic
    let ni = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- unsafeBitCast(SIMD16<Float>(repeating: roundingMagic), to: SIMD16<Int32>.self)
    // r = x - n·ln2, ln2 split in two parts for precision
    var r = v
    r.addProduct(n, SIMD16(repeating: -0.693359375))
    r.addProduct(n, SIMD16(repeating: 2.12194440e-4))
    var p = SIMD16<Float>(repeating: 1.9875691500e-4)
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    let r2 = r * r
    p = p * r2 + r + 1
    let scale = unsafeBitCast((ni &+ 127) &<< 23, to: SIMD16<Float>.self)
    return p * scale
}

/// e^x for one value, through the vector routine so scalar and vector paths agree.
@inline(__always)
public func expScalar(_ x: Float) -> Float {
    expVector(SIMD16(repeating: x))[0]
}

/// ggml_v_expf (AVX-512 build), bit for bit: n = round(x·log₂e), b = x − n·ln2 in two FMAs, a
/// degree-5 polynomial in FMAs, scaled by 2ⁿ with one rounding (_mm512_scalef_ps); |n| > 192
/// gives 0 or ∞. Used where llama.cpp uses it: softmax and SiLU.
@inline(__always)
public func ggmlExpVector(_ x: SIMD16<Float>) -> SIMD16<Float> {
    let r = SIMD16<Float>(repeating: 0x1.8p23)
    let z = r.addingProduct(x, SIMD16(repeating: 0x1.715476p+0))
    let n = z - r
    let b = x.addingProduct(-n, SIMD16(repeating: 0x1.62e4p-1)).addingProduct(-n, SIMD16(repeating: 0x1.7f7d1cp-20))
    let u = b * b
    let p1 = SIMD16<Float>(repeating: 0x1.573e2ep-5).addingProduct(SIMD16(repeating: 0x1.0e4020p-7), b)
    let p2 = SIMD16<Float>(repeating: 0x1.fffdb6p-2).addingProduct(SIMD16(repeating: 0x1.555e66p-3), b)
    let p3 = SIMD16<Float>(repeating: 1).addingProduct(SIMD16(repeating: 0x1.ffffecp-1), b)
    let j = p3.addingProduct(p2.addingProduct(p1, u), u)
    // 2ⁿ as 2^⌊n/2⌋ · 2^(n−⌊n/2⌋): both factors normal for |n| ≤ 192, the first product exact,
    // so the result is rounded once, as scalef rounds it.
    let ni = unsafeBitCast(z, to: SIMD16<Int32>.self) &- unsafeBitCast(r, to: SIMD16<Int32>.self)
    let n1 = ni &>> 1, n2 = ni &- n1
    let s1 = unsafeBitCast((n1 &+ 127) &<< 23, to: SIMD16<Float>.self)
    let s2 = unsafeBitCast((n2 &+ 127) &<< 23, to: SIMD16<Float>.self)
    var res = (j * s1) * s2
    let magnitude = unsafeBitCast(unsafeBitCast(n, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF, to: SIMD16<Float>.self)
    let out = magnitude .> 192
    if any(out) {
        var alt = SIMD16<Float>(repeating: .infinity)
        alt.replace(with: 0, where: n .<= 0)
        res.replace(with: alt, where: out)
    }
    return res
}
