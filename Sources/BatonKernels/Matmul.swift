// y = x · Wᵀ for a batch of activation rows against a (quantised) weight matrix.
//
//   x    (m, rowStride)  prepared activations (see Activations.swift)
//   W    (n, k)          weights in their file format, one output per row
//   out  (m, n)          f32, written or accumulated into (`accumulate`: the residual add)
//
// Up to 3 rows (decode) take the GEMV path: weights are read once, dequantised in registers and
// FMA'd with x. More rows (prefill, batched decode) take the GEMM path: each thread dequantises
// a panel of 4 weight rows to f32 in its scratch (in L1), then runs a 4×4 register tile (4
// tokens × 4 outputs, 16 SIMD16 accumulators) over a chunk of tokens that stays in L2. Threads
// split the output rows and share x read-only.

/// Per-thread scratch for dequantised weight panels.
public struct MatmulScratch: ~Copyable {
    /// (threads, panelRows, stride(maxK)) f32.
    let panels: UnsafeMutablePointer<Float>
    let panelStride: Int
    public let maxK: Int
    public let threads: Int

    public init(maxK: Int, threads: Int) {
        self.maxK = maxK
        self.threads = threads
        panelStride = panelRows * preparedStride(cols: maxK, format: .q8_1) + 16
        panels = .allocate(capacity: panelStride * threads)
        panels.initialize(repeating: 0, count: panelStride * threads)
    }

    deinit { panels.deallocate() }
}

/// Weight rows per GEMM panel (the tile's width in outputs).
let panelRows = 4
/// Tokens per L2-resident chunk of x in the GEMM.
let tokenChunk = 64
/// From this many rows of x on, dequantising panels beats the GEMV.
let gemmMinRows = 4

/// out (m, n) = x (m, k) · Wᵀ, or out += … when `accumulate`. `x` must be prepared for `w.type`.
public func matmul(
    _ x: ActivationBuffer, _ w: WeightMatrix, _ out: UnsafeMutablePointer<Float>,
    accumulate: Bool = false, scratch: borrowing MatmulScratch, pool: ThreadPool
) {
    precondition(x.cols == w.cols && x.format == w.type.activationFormat, "activations not prepared for this weight")
    precondition(w.cols <= scratch.maxK && pool.threadCount <= scratch.threads)
    let m = x.rows, n = w.rows, k = w.cols, stride = x.rowStride
    if m < gemmMinRows {
        pool.run { t, threads in
            let mine = ThreadPool.range(of: n, part: t, parts: threads, grain: 4)
            for r in 0..<m {
                gemv(x.row(r), k: k, w, out + r * n, rows: mine, accumulate: accumulate)
            }
        }
        return
    }
    let scratchPanels = scratch.panels, panelStride = scratch.panelStride
    let xBase = x.row(0)
    pool.run { t, threads in
        let panel = scratchPanels + t * panelStride
        let mine = ThreadPool.range(of: n, part: t, parts: threads, grain: panelRows)
        var t0 = 0
        while t0 < m {
            let t1 = min(t0 + tokenChunk, m)
            var j = mine.lowerBound
            while j < mine.upperBound {
                let width = min(panelRows, mine.upperBound - j)
                for r in 0..<width { dequantizePanelRow(w.type, w.row(j + r), panel + r * stride, cols: k, stride: stride) }
                if width == panelRows {
                    var i = t0
                    while i + 4 <= t1 {
                        tile4x4(xBase + i * stride, panel, k: stride, out + i * n + j, ldo: n, accumulate: accumulate)
                        i += 4
                    }
                    while i < t1 {
                        tile1x4(xBase + i * stride, panel, k: stride, out + i * n + j, accumulate: accumulate)
                        i += 1
                    }
                } else {
                    for i in t0..<t1 {
                        for r in 0..<width {
                            let v = dotF32(xBase + i * stride, panel + r * stride, stride)
                            if accumulate { out[i * n + j + r] += v } else { out[i * n + j + r] = v }
                        }
                    }
                }
                j += width
            }
            t0 = t1
        }
    }
}

/// A weight row in the prepared layout: values without Q4_1's minimum, then the per-block
/// minimums (Q4_1 only), then zeros to `stride`.
@inline(__always)
func dequantizePanelRow(_ type: QuantType, _ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, cols k: Int, stride: Int) {
    if type == .q4_1 {
        for b in 0..<(k / 32) {
            let p = src + b * 20
            let d = halfToFloat(p, 0)
            let q = p.loadUnaligned(fromByteOffset: 4, as: SIMD16<UInt8>.self)
            storeVector(nibbleFloats(q & 0x0F) * d, dst + b * 32)
            storeVector(nibbleFloats(q &>> 4) * d, dst + b * 32 + 16)
            dst[k + b] = halfToFloat(p, 2)
        }
        for i in (k + k / 32)..<stride { dst[i] = 0 }
    } else {
        dequantizeRow(type, src, dst, count: k)
        for i in k..<stride { dst[i] = 0 }
    }
}

// MARK: - GEMM tiles

/// out[i·ldo + j] (+)= Σ x[i·k + c] · w[j·k + c] for i, j in 0..<4.
@inline(__always)
func tile4x4(
    _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, k: Int,
    _ out: UnsafeMutablePointer<Float>, ldo: Int, accumulate: Bool
) {
    var c00 = SIMD16<Float>(), c01 = SIMD16<Float>(), c02 = SIMD16<Float>(), c03 = SIMD16<Float>()
    var c10 = SIMD16<Float>(), c11 = SIMD16<Float>(), c12 = SIMD16<Float>(), c13 = SIMD16<Float>()
    var c20 = SIMD16<Float>(), c21 = SIMD16<Float>(), c22 = SIMD16<Float>(), c23 = SIMD16<Float>()
    var c30 = SIMD16<Float>(), c31 = SIMD16<Float>(), c32 = SIMD16<Float>(), c33 = SIMD16<Float>()
    let x0 = x, x1 = x + k, x2 = x + 2 * k, x3 = x + 3 * k
    let w0 = w, w1 = w + k, w2 = w + 2 * k, w3 = w + 3 * k
    var c = 0
    while c < k {
        let b0 = loadVector(w0 + c), b1 = loadVector(w1 + c), b2 = loadVector(w2 + c), b3 = loadVector(w3 + c)
        var a = loadVector(x0 + c)
        c00.addProduct(a, b0); c01.addProduct(a, b1); c02.addProduct(a, b2); c03.addProduct(a, b3)
        a = loadVector(x1 + c)
        c10.addProduct(a, b0); c11.addProduct(a, b1); c12.addProduct(a, b2); c13.addProduct(a, b3)
        a = loadVector(x2 + c)
        c20.addProduct(a, b0); c21.addProduct(a, b1); c22.addProduct(a, b2); c23.addProduct(a, b3)
        a = loadVector(x3 + c)
        c30.addProduct(a, b0); c31.addProduct(a, b1); c32.addProduct(a, b2); c33.addProduct(a, b3)
        c += 16
    }
    store4(SIMD4(c00.sum(), c01.sum(), c02.sum(), c03.sum()), out, accumulate)
    store4(SIMD4(c10.sum(), c11.sum(), c12.sum(), c13.sum()), out + ldo, accumulate)
    store4(SIMD4(c20.sum(), c21.sum(), c22.sum(), c23.sum()), out + 2 * ldo, accumulate)
    store4(SIMD4(c30.sum(), c31.sum(), c32.sum(), c33.sum()), out + 3 * ldo, accumulate)
}

@inline(__always)
func tile1x4(
    _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, k: Int,
    _ out: UnsafeMutablePointer<Float>, accumulate: Bool
) {
    var c0 = SIMD16<Float>(), c1 = SIMD16<Float>(), c2 = SIMD16<Float>(), c3 = SIMD16<Float>()
    var c = 0
    while c < k {
        let a = loadVector(x + c)
        c0.addProduct(a, loadVector(w + c))
        c1.addProduct(a, loadVector(w + k + c))
        c2.addProduct(a, loadVector(w + 2 * k + c))
        c3.addProduct(a, loadVector(w + 3 * k + c))
        c += 16
    }
    store4(SIMD4(c0.sum(), c1.sum(), c2.sum(), c3.sum()), out, accumulate)
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

/// Σ a[i]·b[i] over `count` f32 values (`count` a multiple of 16).
@inline(__always)
public func dotF32(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
    var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>()
    var i = 0
    while i + 32 <= count {
        acc0.addProduct(loadVector(a + i), loadVector(b + i))
        acc1.addProduct(loadVector(a + i + 16), loadVector(b + i + 16))
        i += 32
    }
    if i < count { acc0.addProduct(loadVector(a + i), loadVector(b + i)) }
    return (acc0 + acc1).sum()
}
