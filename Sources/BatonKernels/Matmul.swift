// y = x · Wᵀ for a batch of activation rows against a (quantised) weight matrix.
//
//   x    (m, k)  f32 activations, row-major
//   W    (n, k)  weights in their file format, one output per row
//   out  (m, n)  f32, written or accumulated into (`accumulate`: out += x · Wᵀ, the residual add)
//
// One row (decode) takes the GEMV path: weights are read once, dequantised in registers and
// FMA'd with x. Several rows (prefill, batched decode) take the GEMM path: each thread
// dequantises a panel of 4 weight rows to f32 in its scratch (in L1), then runs a 4×4 register
// tile (4 tokens × 4 outputs, 16 SIMD16 accumulators) over a chunk of tokens that stays in L2.
// Threads split the output rows; they share x read-only.

/// Per-thread scratch the matmul needs: a dequantised weight panel and x's block sums.
public struct MatmulScratch: ~Copyable {
    /// (threads, panelRows, maxK) f32 panel per thread.
    let panels: UnsafeMutablePointer<Float>
    let panelStride: Int
    public let maxK: Int
    public let threads: Int

    public init(maxK: Int, threads: Int) {
        self.maxK = maxK
        self.threads = threads
        panelStride = panelRows * maxK + 16
        panels = .allocate(capacity: panelStride * threads)
        panels.initialize(repeating: 0, count: panelStride * threads)
    }

    deinit { panels.deallocate() }

    func panel(_ thread: Int) -> UnsafeMutablePointer<Float> { panels + thread * panelStride }
}

/// Weight rows per GEMM panel (the tile's width in outputs).
let panelRows = 4
/// Tokens per L2-resident chunk of x in the GEMM.
let tokenChunk = 64
/// Below this many rows of x the GEMV path is faster than dequantising panels.
let gemmMinRows = 4

/// out (m, n) = x (m, k) · Wᵀ, or out += … when `accumulate`.
public func matmul(
    _ x: UnsafePointer<Float>, _ w: WeightMatrix, _ out: UnsafeMutablePointer<Float>,
    rows m: Int, accumulate: Bool = false, scratch: borrowing MatmulScratch, pool: ThreadPool
) {
    precondition(w.cols <= scratch.maxK && pool.threadCount <= scratch.threads)
    let n = w.rows, k = w.cols
    if m < gemmMinRows {
        pool.run { t, threads in
            let mine = ThreadPool.range(of: n, part: t, parts: threads, grain: 4)
            for r in 0..<m {
                gemv(x + r * k, w, out + r * n, rows: mine, accumulate: accumulate)
            }
        }
        return
    }
    let scratchPanels = scratch.panels, panelStride = scratch.panelStride
    pool.run { t, threads in
        let panel = scratchPanels + t * panelStride
        let mine = ThreadPool.range(of: n, part: t, parts: threads, grain: panelRows)
        var t0 = 0
        while t0 < m {
            let t1 = min(t0 + tokenChunk, m)
            var j = mine.lowerBound
            while j < mine.upperBound {
                let width = min(panelRows, mine.upperBound - j)
                for r in 0..<width { dequantizeRow(w.type, w.row(j + r), panel + r * k, count: k) }
                if width == panelRows {
                    var i = t0
                    while i + 4 <= t1 {
                        tile4x4(x + i * k, panel, k: k, out + i * n + j, ldo: n, accumulate: accumulate)
                        i += 4
                    }
                    while i < t1 {
                        tile1x4(x + i * k, panel, k: k, out + i * n + j, accumulate: accumulate)
                        i += 1
                    }
                } else {
                    for i in t0..<t1 {
                        for r in 0..<width {
                            let v = dotF32(x + i * k, panel + r * k, k)
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
    let r0 = SIMD4<Float>(c00.sum(), c01.sum(), c02.sum(), c03.sum())
    let r1 = SIMD4<Float>(c10.sum(), c11.sum(), c12.sum(), c13.sum())
    let r2 = SIMD4<Float>(c20.sum(), c21.sum(), c22.sum(), c23.sum())
    let r3 = SIMD4<Float>(c30.sum(), c31.sum(), c32.sum(), c33.sum())
    store4(r0, out, accumulate)
    store4(r1, out + ldo, accumulate)
    store4(r2, out + 2 * ldo, accumulate)
    store4(r3, out + 3 * ldo, accumulate)
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
    store4(SIMD4<Float>(c0.sum(), c1.sum(), c2.sum(), c3.sum()), out, accumulate)
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
