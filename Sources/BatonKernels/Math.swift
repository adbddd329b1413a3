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
