// Activations are quantised before every matmul exactly as ggml does on the CPU, so Baton's
// logits follow llama.cpp's token for token: for Q4_0 and Q8_0 weights the activations become
// Q8_0 blocks, for Q4_1 weights Q8_1 blocks (Q8_0 plus s = d·Σq), for F16 weights f16.
//
// A block of 32 values: amax = max|x|, d = amax/127, q = round-half-even(x · 127/amax),
// stored d = f16(d), s = f16(d·Σq) (ggml's quantize_row_q8_1: d before its f16 rounding).
//
// The quantised kernels (Gemv.swift, Matmul.swift) reproduce ggml's vec_dot rounding order: per
// block eight integer sums of four products, each FMA'd into its own f32 lane with the f32 scale
// d_w·d_x. So q is kept as an integer-valued float (exact products and sums) and in each block
// the 32 values are stored "lane-major": position 8·t + j holds q[4·j + t], so that the four
// products of lane j are four vertical SIMD8 operations (t = 0…3). For Q8_1 (Q4_1 weights) the
// q of row t are stored times 2^-(8t) (lanes 0–3) and 2^-(8t+4) (lanes 4–7), exactly: the Q4_1
// decoder then only masks each nibble in place in its 32-bit word (n · 2^(8t), n · 2^(8t+4))
// and needs no shifts; the products and their sums are still the exact integers.
//
// Row layout of the prepared buffer (rowStride floats per row):
//   f32 / f16:  [ x₀ … xₖ₋₁ (rounded) | 0 padding to a multiple of 16 ]
//   q8_0:       [ q (permuted, k) | d₀ … d_{k/32-1} | 0 padding ]
//   q8_1:       [ q (permuted, k) | d₀ … | s₀ … s_{k/32-1} | 0 padding ]
// and for the Q8 formats a byte copy of each row's q in ggml's order (q for Q8_1, q + 128 for
// Q8_0; `quants`), read by the VNNI batched GEMV (BatonKernelsC).

/// Storage for prepared activations of up to `maxRows` × `maxCols`.
public final class ActivationBuffer: @unchecked Sendable {
    public let maxRows: Int
    public let maxCols: Int
    let storage: UnsafeMutablePointer<Float>
    /// Q8 formats: per row the `cols` quants as bytes in ggml's element order, for the VNNI
    /// batched GEMV (BatonKernelsC): q for Q8_1, q + 128 (unsigned) for Q8_0. Row stride `maxCols`.
    let quants: UnsafeMutablePointer<Int8>
    public private(set) var rows = 0
    public private(set) var cols = 0
    public private(set) var format: ActivationFormat = .f32
    public private(set) var rowStride = 0
    /// Whether the Q8 formats' float lanes were written (the VNNI batched GEMV reads only the
    /// byte quants and the scales, so `prepare` may skip them).
    public private(set) var hasLanes = true

    public init(maxRows: Int, maxCols: Int) {
        self.maxRows = maxRows
        self.maxCols = maxCols
        let capacity = maxRows * preparedStride(cols: maxCols, format: .q8_1)
        storage = .allocate(capacity: capacity)
        storage.initialize(repeating: 0, count: capacity)
        quants = .allocate(capacity: maxRows * maxCols + 64)
        quants.initialize(repeating: 0, count: maxRows * maxCols + 64)
    }

    deinit {
        storage.deallocate()
        quants.deallocate()
    }

    /// Rounds `rows` rows of `cols` values at `x` (row stride `cols`) for weights of `type`;
    /// without `lanes`, the Q8 formats' float lanes are left out (`matmulReadsLanes`).
    public func prepare(_ x: UnsafePointer<Float>, rows: Int, cols: Int, for type: QuantType, lanes: Bool = true, pool: ThreadPool) {
        precondition(rows <= maxRows && cols <= maxCols && cols % 32 == 0)
        let format = type.activationFormat
        let stride = preparedStride(cols: cols, format: format)
        self.rows = rows
        self.cols = cols
        self.format = format
        self.rowStride = stride
        self.hasLanes = lanes
        let out = storage, quantsOut = quants, quantStride = maxCols
        let work = { (r: Int) in
            let src = x + r * cols, dst = out + r * stride
            switch format {
            case .f32:
                dst.update(from: src, count: cols)
            case .f16:
                for i in 0..<cols { dst[i] = Float(Float16(src[i])) }
            case .q8_0, .q8_1:
                let blocks = cols / 32
                for b in 0..<blocks {
                    let (d, s) = quantizeBlockQ8(
                        src + 32 * b, lanes ? dst + 32 * b : nil, nibbleScaled: format == .q8_1, bytes: quantsOut + r * quantStride + 32 * b)
                    dst[cols + b] = d
                    if format == .q8_1 { dst[cols + blocks + b] = s }
                }
            }
            let used = cols + (format == .q8_1 ? 2 * cols / 32 : format == .q8_0 ? cols / 32 : 0)
            for i in used..<stride { dst[i] = 0 }
        }
        if rows < 8 {
            for r in 0..<rows { work(r) }
        } else {
            pool.run { t, n in
                for r in ThreadPool.range(of: rows, part: t, parts: n) { work(r) }
            }
        }
    }

    /// Row `r` of the prepared values.
    @inline(__always)
    public func row(_ r: Int) -> UnsafePointer<Float> { UnsafePointer(storage + r * rowStride) }

    /// Row `r` of the byte quants (Q8 formats; row stride `maxCols`).
    @inline(__always)
    func quantRow(_ r: Int) -> UnsafePointer<Int8> { UnsafePointer(quants + r * maxCols) }
}

/// Quantises 32 values to Q8 and writes q (as floats, lane-major: dst[8t + j] = q[4j + t],
/// for Q8_1 (`nibbleScaled`) times 2^-(8t) in lanes 0–3 and 2^-(8t+4) in lanes 4–7, matched by
/// Q4_1 weights decoded in place, Gemv.swift's nibbleLanesScaled);
/// and the 32 q in order as bytes at `bytes` (Q8_1: q; Q8_0: q + 128 as an unsigned byte);
/// returns (f16(d), f16(d·Σq)) as floats (Q8's d and Q8_1's s). A nil `dst` writes the bytes only.
@inline(__always)
func quantizeBlockQ8(
    _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>?, nibbleScaled: Bool, bytes: UnsafeMutablePointer<Int8>
) -> (Float, Float) {
    let v0 = loadVector(src), v1 = loadVector(src + 16)
    var amax: Float = 0
    for i in 0..<16 { amax = Swift.max(amax, Swift.max(Swift.abs(v0[i]), Swift.abs(v1[i]))) }
    let d = amax / 127
    let id: Float = amax != 0 ? 127 / amax : 0
    // Round half to even via the 1.5·2²³ trick (|x·id| ≤ 127).
    let p0 = v0 * id, p1 = v1 * id
    let q0 = (p0 + roundingMagic) - roundingMagic
    let q1 = (p1 + roundingMagic) - roundingMagic
    // The same q as integers, all 16 lanes at once: p + 1.5·2²³ holds round(p) in the low bits
    // of its bit pattern (|p| ≤ 127), so the pattern minus the magic's is q, exactly.
    let bias = SIMD16<Int32>(repeating: (nibbleScaled ? 0 : 128) &- Int32(bitPattern: roundingMagic.bitPattern))
    let raw = UnsafeMutableRawPointer(bytes)
    raw.storeBytes(of: SIMD16<Int8>(truncatingIfNeeded: unsafeBitCast(p0 + roundingMagic, to: SIMD16<Int32>.self) &+ bias), as: SIMD16<Int8>.self)
    (raw + 16).storeBytes(of: SIMD16<Int8>(truncatingIfNeeded: unsafeBitCast(p1 + roundingMagic, to: SIMD16<Int32>.self) &+ bias), as: SIMD16<Int8>.self)
    if let dst { for t in 0..<4 {
        let lo: Float = nibbleScaled ? Float(sign: .plus, exponent: -8 * t, significand: 1) : 1
        let hi: Float = nibbleScaled ? Float(sign: .plus, exponent: -8 * t - 4, significand: 1) : 1
        for j in 0..<4 {
            dst[8 * t + j] = q0[4 * j + t] * lo
            dst[8 * t + j + 4] = q1[4 * j + t] * hi
        }
    } }
    return (Float(Float16(d)), Float(Float16(d * (q0 + q1).sum())))
}
