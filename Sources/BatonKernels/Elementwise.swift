// Row-wise kernels: RMSNorm, SwiGLU, RoPE, softmax, residual add.

/// out (n) = x / sqrt(mean(x²) + eps) · weight, for one row of n values (n a multiple of 16),
/// rounded as ggml's rms_norm followed by its mul: Σ f32(x²) summed in order in double,
/// mean = f32(Σ/n), scale = 1/sqrtf(mean + eps), out = f32(f32(x·scale)·weight).
public func rmsNorm(
    _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
    count n: Int, eps: Float
) {
    var sum: Double = 0
    for i in 0..<n {
        let v = x[i]
        sum += Double(v * v)
    }
    let mean = Float(sum / Double(n))
    let scale = 1 / (mean + eps).squareRoot()
    var i = 0
    while i < n {
        storeVector((loadVector(x + i) * scale) * loadVector(weight + i), out + i)
        i += 16
    }
}

/// gate (n) = silu(gate) · up, in place: the SwiGLU of Llama's FFN, as ggml_vec_swiglu_f32
/// (AVX-512): (g / (1 + ggml_v_expf(0 − g))) · up. n a multiple of 16.
public func siluMul(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, count n: Int) {
    var i = 0
    while i < n {
        let g = loadVector(gate + i)
        let s = g / (1 + ggmlExpVector(SIMD16<Float>() - g))
        storeVector(s * loadVector(up + i), gate + i)
        i += 16
    }
}

/// Rotates `heads` vectors of `headDim` at `x` (stride `headDim`) by the position's angles,
/// pairing adjacent values (x[2i], x[2i+1]) as GGUF's "normal" RoPE does for Llama, with the
/// FMAs gcc forms in ggml's rotate_pairs: x₀' = fma(x₀, cos, −(x₁·sin)), x₁' = fma(x₀, sin, x₁·cos).
/// `cosSin` holds (cos θᵢ, sin θᵢ) for i in 0..<headDim/2.
public func ropeNormal(
    _ x: UnsafeMutablePointer<Float>, heads: Int, headDim: Int, cosSin: UnsafePointer<Float>
) {
    for h in 0..<heads {
        let v = x + h * headDim
        for i in 0..<(headDim / 2) {
            let c = cosSin[2 * i], s = cosSin[2 * i + 1]
            let a = v[2 * i], b = v[2 * i + 1]
            v[2 * i] = (-(b * s)).addingProduct(a, c)
            v[2 * i + 1] = (b * c).addingProduct(a, s)
        }
    }
}

/// Fills `cosSin` (headDim/2 pairs) for `position`: θᵢ = pos · thetaScaleⁱ, computed as ggml
/// does, by multiplying θ by the scale pair after pair (thetaScale = base^(-2/headDim)).
public func ropeAngles(
    position: Int, thetaScale: Float, headDim: Int, cosSin: UnsafeMutablePointer<Float>
) {
    var theta = Float(position)
    for i in 0..<(headDim / 2) {
        cosSin[2 * i] = cosf(theta)
        cosSin[2 * i + 1] = sinf(theta)
        theta *= thetaScale
    }
}

/// x (n) = softmax(x), in place, as ggml's soft_max over a row padded with −∞ to a multiple of
/// 16 (llama.cpp pads its KV length to 256): e = ggml_v_expf(x − max), Σ in double of each 16
/// values' _mm512_reduce_add_ps, x = e · f32(1/Σ). Any n; x must have room for n rounded up
/// to 16 (the padding is written with zeros).
public func softmax(_ x: UnsafeMutablePointer<Float>, count n: Int) {
    var maxValue = -Float.infinity
    for i in 0..<n where x[i] > maxValue { maxValue = x[i] }
    let padded = (n + 15) / 16 * 16
    for i in n..<padded { x[i] = -.infinity }
    let m = SIMD16<Float>(repeating: maxValue)
    var sum: Double = 0
    var i = 0
    while i < padded {
        let e = ggmlExpVector(loadVector(x + i) - m)
        storeVector(e, x + i)
        sum += Double(reduceAdd16(e))
        i += 16
    }
    let inv = Float(1 / sum)
    i = 0
    while i < padded {
        storeVector(loadVector(x + i) * inv, x + i)
        i += 16
    }
}

/// _mm512_reduce_add_ps's order (gcc): halves 8+8, 4+4, then (0+2)+(1+3).
@inline(__always)
func reduceAdd16(_ v: SIMD16<Float>) -> Float {
    let a = v.highHalf + v.lowHalf
    let b = a.highHalf + a.lowHalf
    return (b[0] + b[2]) + (b[1] + b[3])
}

/// y (n) += x (n).
public func addInPlace(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count n: Int) {
    var i = 0
    while i + 16 <= n {
        storeVector(loadVector(y + i) + loadVector(x + i), y + i)
        i += 16
    }
    while i < n {
        y[i] += x[i]
        i += 1
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The index of the first greatest value of `x` (count), NaNs never chosen; 0 when no value
/// exceeds −∞ (as a scalar `v > best` scan from best = −∞ answers), 16 values at a time.
public func argmaxFirst(_ x: UnsafePointer<Float>, count n: Int) -> Int {
    var m = SIMD16<Float>(repeating: -.infinity)
    var i = 0
    while i + 16 <= n {
        let v = loadVector(x + i)
        m.replace(with: v, where: v .> m)
        i += 16
    }
    var best = -Float.infinity
    for l in 0..<16 where m[l] > best { best = m[l] }
    for j in i..<n where x[j] > best { best = x[j] }
    guard best > -.infinity else { return 0 }
    i = 0
    let b = SIMD16<Float>(repeating: best)
    while i + 16 <= n {
        if any(loadVector(x + i) .== b) { break }
        i += 16
    }
    while x[i] != best { i += 1 }
    return i
}
