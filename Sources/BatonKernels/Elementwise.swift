// Row-wise kernels: RMSNorm, SwiGLU, RoPE, softmax, residual add.

/// out (n) = x / sqrt(mean(x²) + eps) · weight, for one row of n values (n a multiple of 16).
public func rmsNorm(
    _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
    count n: Int, eps: Float
) {
    var ss = SIMD16<Float>()
    var i = 0
    while i < n {
        let v = loadVector(x + i)
        ss.addProduct(v, v)
        i += 16
    }
    let scale = 1 / (ss.sum() / Float(n) + eps).squareRoot()
    i = 0
    while i < n {
        storeVector(loadVector(x + i) * scale * loadVector(weight + i), out + i)
        i += 16
    }
}

/// gate (n) = silu(gate) · up, in place: the SwiGLU of Llama's FFN.
public func siluMul(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, count n: Int) {
    var i = 0
    while i < n {
        let g = loadVector(gate + i)
        let s = g / (1 + expVector(-g))
        storeVector(s * loadVector(up + i), gate + i)
        i += 16
    }
}

/// Rotates `heads` vectors of `headDim` at `x` (stride `headDim`) by the position's angles,
/// pairing adjacent values (x[2i], x[2i+1]) as GGUF's "normal" RoPE does for Llama.
/// `cosSin` holds (cos θᵢ, sin θᵢ) for i in 0..<headDim/2.
public func ropeNormal(
    _ x: UnsafeMutablePointer<Float>, heads: Int, headDim: Int, cosSin: UnsafePointer<Float>
) {
    for h in 0..<heads {
        let v = x + h * headDim
        for i in 0..<(headDim / 2) {
            let c = cosSin[2 * i], s = cosSin[2 * i + 1]
            let a = v[2 * i], b = v[2 * i + 1]
            v[2 * i] = a * c - b * s
            v[2 * i + 1] = a * s + b * c
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

/// x (n) = softmax(x), in place; returns nothing. Any n.
public func softmax(_ x: UnsafeMutablePointer<Float>, count n: Int) {
    var maxValue = -Float.infinity
    for i in 0..<n where x[i] > maxValue { maxValue = x[i] }
    var sum: Float = 0
    var i = 0
    let m = SIMD16<Float>(repeating: maxValue)
    var acc = SIMD16<Float>()
    while i + 16 <= n {
        let e = expVector(loadVector(x + i) - m)
        storeVector(e, x + i)
        acc += e
        i += 16
    }
    sum = acc.sum()
    while i < n {
        let e = expScalar(x[i] - maxValue)
        x[i] = e
        sum += e
        i += 1
    }
    let inv = 1 / sum
    for j in 0..<n { x[j] *= inv }
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
