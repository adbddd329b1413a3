// Activations are quantised before every matmul exactly as ggml does on the CPU, so Baton's
// logits follow llama.cpp's token for token: for Q4_0 and Q8_0 weights the activations become
// Q8_0 blocks, for Q4_1 weights Q8_1 blocks (Q8_0 plus s = d·Σq), for F16 weights f16.
//
// A block of 32 values: amax = max|x|, d = amax/127, q = round-half-even(x · 127/amax),
// stored d = f16(d). The kernels then work on x' = q·f16(d) in f32, which is exact, so
// Σ w·x' per block equals ggml's integer dot product scaled by d_w·d_x.
//
// Row layout of the prepared buffer (rowStride floats per row):
//   [ x'₀ … x'ₖ₋₁ | s₀ … s_{k/32-1} (Q8_1 only) | 0 padding to a multiple of 16 ]
// The s columns meet the weight panel's per-block minimums (Q4_1's m), so one dot product over
// the whole row computes d_w·Σq_w·x' + Σ m_w·s, as ggml's Q4_1×Q8_1 kernel does.

/// How activations are rounded for a weight type.
public enum ActivationFormat: Sendable, Equatable {
    case f32, f16, q8_0, q8_1
}

extension QuantType {
    /// ggml's `vec_dot_type` for this weight type.
    public var activationFormat: ActivationFormat {
        switch self {
        case .f32: .f32
        case .f16: .f16
        case .q4_0, .q8_0: .q8_0
        case .q4_1: .q8_1
        }
    }
}

/// Row stride of prepared activations (and of dequantised weight panels) for `cols` values.
@inline(__always)
public func preparedStride(cols: Int, format: ActivationFormat) -> Int {
    let extra = format == .q8_1 ? cols / 32 : 0
    return (cols + extra + 15) / 16 * 16
}

/// Storage for prepared activations of up to `maxRows` × `maxCols`.
public final class ActivationBuffer: @unchecked Sendable {
    public let maxRows: Int
    public let maxCols: Int
    let storage: UnsafeMutablePointer<Float>
    public private(set) var rows = 0
    public private(set) var cols = 0
    public private(set) var format: ActivationFormat = .f32
    public private(set) var rowStride = 0

    public init(maxRows: Int, maxCols: Int) {
        self.maxRows = maxRows
        self.maxCols = maxCols
        let capacity = maxRows * preparedStride(cols: maxCols, format: .q8_1)
        storage = .allocate(capacity: capacity)
        storage.initialize(repeating: 0, count: capacity)
    }

    deinit { storage.deallocate() }

    /// Rounds `rows` rows of `cols` values at `x` (row stride `cols`) for weights of `type`.
    public func prepare(_ x: UnsafePointer<Float>, rows: Int, cols: Int, for type: QuantType, pool: ThreadPool) {
        precondition(rows <= maxRows && cols <= maxCols && cols % 32 == 0)
        let format = type.activationFormat
        let stride = preparedStride(cols: cols, format: format)
        self.rows = rows
        self.cols = cols
        self.format = format
        self.rowStride = stride
        let out = storage
        let work = { (r: Int) in
            let src = x + r * cols, dst = out + r * stride
            switch format {
            case .f32:
                dst.update(from: src, count: cols)
            case .f16:
                for i in 0..<cols { dst[i] = Float(Float16(src[i])) }
            case .q8_0, .q8_1:
                for b in 0..<(cols / 32) {
                    let s = quantizeBlockQ8(src + 32 * b, dst + 32 * b)
                    if format == .q8_1 { dst[cols + b] = s }
                }
            }
            for i in (cols + (format == .q8_1 ? cols / 32 : 0))..<stride { dst[i] = 0 }
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
}

/// Quantises 32 values to Q8 and writes x' = q·f16(d); returns f16(d·Σq) (Q8_1's s).
@inline(__always)
func quantizeBlockQ8(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>) -> Float {
    let v0 = loadVector(src), v1 = loadVector(src + 16)
    var amax: Float = 0
    for i in 0..<16 { amax = Swift.max(amax, Swift.max(Swift.abs(v0[i]), Swift.abs(v1[i]))) }
    let d = amax / 127
    let id: Float = amax != 0 ? 127 / amax : 0
    let dh = Float(Float16(d))
    // Round half to even via the 1.5·2²³ trick (|x·id| ≤ 127).
    let q0 = (v0 * id + roundingMagic) - roundingMagic
    let q1 = (v1 * id + roundingMagic) - roundingMagic
    storeVector(q0 * dh, dst)
    storeVector(q1 * dh, dst + 16)
    return Float(Float16(d * (q0 + q1).sum()))
}

