import BatonKernelsC
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// y = x · Wᵀ for a batch of activation rows against a (quantised) weight matrix.
//
//   x    (m, rowStride)  prepared activations (see ActivationBuffer.swift)
//   W    (n, k)          weights in their file format, one output per row
//   out  (m, n)          f32, written or accumulated into (`accumulate`: the residual add)
//
// One row (single-sequence decode) takes the GEMV path: weights are read once, decoded in
// registers. 2–64 rows of quantised weights (batched decode, short prefill chunks) take the
// multi-token GEMV (Gemv.swift, batchedGemv): each block of 4 weight rows is decoded in
// registers and applied to 4 tokens at a time, nothing through memory; on CPUs with AVX-512
// VNNI it runs in C instead (BatonKernelsC, baton_vnni_prepare / baton_vnni_rows: vpdpbusd
// forms the same exact integer lane sums, so the bits are the same), for prefill batches too,
// 64 tokens at a time, with work stealing between the threads (vnniStealing). More rows without
// VNNI (prefill), and f32/f16 weights from 4 rows, take the GEMM path: each thread decodes a panel of 4 weight rows
// into its scratch (in L1), then runs a register tile (4 tokens × 4 outputs) over a chunk of
// tokens that stays in L2. Threads split the output rows and share x read-only.
//
// Quantised weights: the panel holds, per block, each row pair's lanes (Gemv.swift's
// BlockLanes) and scales, and the tile performs exactly the GEMV's operations per (row, token):
// both reproduce ggml's vec_dot bit for bit. f32/f16 weights: f32 panels and SIMD16 FMAs.

/// Weight rows per GEMM panel (the tile's width in outputs).
let panelRows = 4

/// Floats per block of a quantised panel: two row pairs × (4 lane vectors + scales) × 16.
let quantPanelBlock = 2 * 5 * 16

/// Tokens per L2-resident chunk of x in the GEMM.
let tokenChunk = 64

/// From this many rows of x on, dequantising panels beats the GEMV.
let gemmMinRows = 4

/// Up to this many rows of x, quantised weights take the batched GEMV (Gemv.swift); the VNNI
/// kernel takes any number, this many at a time.
let batchedMaxRows = 64

/// From this many rows of x on, quantised weights take the batched GEMV rather than the GEMV.
let batchedMinRows = 2

/// Whether `matmul` of `rows` rows against weights of `type` reads the Q8 float lanes of the
/// prepared activations (the VNNI batched GEMV reads only their bytes and scales).
public func matmulReadsLanes(rows: Int, type: QuantType, scratch: borrowing MatmulScratch) -> Bool {
    let quantised = type == .q4_0 || type == .q4_1 || type == .q8_0
    return !(quantised && scratch.useVNNI && rows >= batchedMinRows)
}

/// out (m, n) = x (m, k) · Wᵀ, or out += … when `accumulate`. `x` must be prepared for `w.type`.
public func matmul(
    _ x: ActivationBuffer, _ w: WeightMatrix, _ out: UnsafeMutablePointer<Float>,
    accumulate: Bool = false, scratch: borrowing MatmulScratch, pool: ThreadPool
) {
    checkMatmul(x, w, scratch: scratch, pool: pool)
    let panels = scratch.panels, panelStride = scratch.panelStride, useVNNI = scratch.useVNNI, wide = scratch.vnniWide
    if takesVNNIStealing(x, w, useVNNI: useVNNI) {
        withUnsafeTemporaryAllocation(of: MatmulJob.self, capacity: 1) { one in
            one.initialize(repeating: (w, out))
            vnniStealing(x, UnsafeBufferPointer(one), accumulate: accumulate, wide: wide, pool: pool)
        }
        return
    }
    pool.run { t, threads in
        matmulShare(x, w, out, accumulate: accumulate, part: t, parts: threads, panels: panels, panelStride: panelStride)
    }
}

/// outs[i] (m, n_i) = x (m, k) · W_iᵀ for weights sharing the same prepared activations (q, k
/// and v; gate and up) in one parallel region: each thread takes its share of each in turn, the
/// same share `matmul` gives it, so the results are the same bits with fewer waits.
public func matmul(
    _ x: ActivationBuffer, _ jobs: [(weight: WeightMatrix, out: UnsafeMutablePointer<Float>)],
    scratch: borrowing MatmulScratch, pool: ThreadPool
) {
    for job in jobs { checkMatmul(x, job.weight, scratch: scratch, pool: pool) }
    let panels = scratch.panels, panelStride = scratch.panelStride, useVNNI = scratch.useVNNI, wide = scratch.vnniWide
    if jobs.allSatisfy({ takesVNNIStealing(x, $0.weight, useVNNI: useVNNI) }) {
        jobs.withUnsafeBufferPointer { vnniStealing(x, $0, accumulate: false, wide: wide, pool: pool) }
        return
    }
    pool.run { t, threads in
        for job in jobs {
            matmulShare(x, job.weight, job.out, accumulate: false, part: t, parts: threads, panels: panels, panelStride: panelStride)
        }
    }
}

typealias MatmulJob = (weight: WeightMatrix, out: UnsafeMutablePointer<Float>)

/// Whether `matmul` takes `vnniStealing`: the VNNI batched GEMV, for every batch of 2+ tokens
/// (decode batches and prefill chunks alike).
@inline(__always)
private func takesVNNIStealing(_ x: ActivationBuffer, _ w: WeightMatrix, useVNNI: Bool) -> Bool {
    vnniTypeCode(w.type) != nil && useVNNI && x.rows >= batchedMinRows
}

/// BatonKernelsC's weight type codes; nil for weights the VNNI kernel does not take.
@inline(__always)
func vnniTypeCode(_ t: QuantType) -> Int32? {
    switch t {
    case .q4_1: 0
    case .q4_0: 1
    case .q8_0: 2
    default: nil
    }
}

/// Weight rows per unit of `vnniStealing`'s ranges (4 quads).
let stealRows = 16

/// The VNNI batched GEMV of `jobs` (weights sharing the prepared activations `x`) with work
/// stealing, in chunks of up to 64 tokens (`batchedMaxRows`: a chunk's activations stay in L2).
/// Per chunk and job, each thread owns its share of the job's rows in units of 16, takes its own
/// units in order (the kernel prefetching the next unit's first quad), then takes units from the
/// back of the others' shares; then it goes on to the next chunk, whatever the other thread is
/// doing (the chunks write disjoint outputs). Threads do not always run equally fast (in
/// 16-stream profiles the loop thread ran ~10% slower than the worker on the same work), and a
/// static split makes the faster one wait. Each output row of a chunk is computed by one call
/// with the same operations whoever takes it: the same bits as a static split.
private func vnniStealing(
    _ x: ActivationBuffer, _ jobs: UnsafeBufferPointer<MatmulJob>, accumulate: Bool, wide: Bool, pool: ThreadPool
) {
    let m = x.rows, stride = x.rowStride, k = x.cols, threads = pool.threadCount
    let q = x.quantRow(0), qStride = x.maxCols, xf = x.row(0)
    let wideFlag: Int32 = wide ? 1 : 0, accumulateFlag: Int32 = accumulate ? 1 : 0
    let chunks = (m + batchedMaxRows - 1) / batchedMaxRows
    // Ranges of (chunk, job, owner), each a claimable (front, back) pair of unit indices.
    withUnsafeTemporaryAllocation(of: UInt64.self, capacity: chunks * jobs.count * threads) { ranges in
        for c in 0..<chunks {
            for (j, job) in jobs.enumerated() {
                let units = (job.weight.rows + stealRows - 1) / stealRows
                for t in 0..<threads {
                    let share = ThreadPool.range(of: units, part: t, parts: threads)
                    ranges[(c * jobs.count + j) * threads + t] = UInt64(share.upperBound) << 32 | UInt64(share.lowerBound)
                }
            }
        }
        let base = ranges.baseAddress!
        pool.run { t, threads in
            for c in 0..<chunks {
                let t0 = c * batchedMaxRows, t1 = min(t0 + batchedMaxRows, m)
                var prepared = false
                for (j, job) in jobs.enumerated() {
                    let n = job.weight.rows, type = vnniTypeCode(job.weight.type)!
                    func compute(_ unit: Int, ahead: Int) {
                        if !prepared {
                            // The chunk's layout depends only on the activations' format, which the jobs share.
                            baton_vnni_prepare(vnniTypeCode(jobs[0].weight.type)!, k, q, qStride, xf, stride, t0, t1, wideFlag)
                            prepared = true
                        }
                        let r0 = unit * stealRows, r1 = min(r0 + stealRows, n)
                        baton_vnni_rows(
                            type, job.weight.data, job.weight.rowBytes, k, q, qStride, t0, t1, job.out, n, r0, r1,
                            min(ahead * stealRows, n), accumulateFlag, wideFlag)
                    }
                    let ranges = base + (c * jobs.count + j) * threads
                    let ownEnd = ThreadPool.range(of: (n + stealRows - 1) / stealRows, part: t, parts: threads).upperBound
                    while case let unit = baton_claim_front(ranges + t), unit >= 0 { compute(unit, ahead: ownEnd) }
                    for o in 1..<threads {
                        while case let unit = baton_claim_back(ranges + (t + o) % threads), unit >= 0 { compute(unit, ahead: 0) }
                    }
                }
            }
        }
    }
}

private func checkMatmul(_ x: ActivationBuffer, _ w: WeightMatrix, scratch: borrowing MatmulScratch, pool: ThreadPool) {
    precondition(x.cols == w.cols && x.format == w.type.activationFormat, "activations not prepared for this weight")
    precondition(x.hasLanes || !matmulReadsLanes(rows: x.rows, type: w.type, scratch: scratch), "activations prepared without their lanes")
    precondition(w.cols <= scratch.maxK && pool.threadCount <= scratch.threads)
}

/// Thread `part` of `parts`'s share of out = x · Wᵀ: its range of output rows (weight rows).
@inline(__always)
private func matmulShare(
    _ x: ActivationBuffer, _ w: WeightMatrix, _ out: UnsafeMutablePointer<Float>, accumulate: Bool,
    part t: Int, parts threads: Int, panels scratchPanels: UnsafeMutablePointer<Float>, panelStride: Int
) {
    let m = x.rows, n = w.rows, k = w.cols, stride = x.rowStride
    let quantised = w.type == .q4_0 || w.type == .q4_1 || w.type == .q8_0
    if quantised && m >= batchedMinRows && m <= batchedMaxRows {
        let xBase = x.row(0)
        let mine = ThreadPool.range(of: n, part: t, parts: threads, grain: 4)
        batchedGemv(xBase, stride: stride, tokens: 0..<m, w, out, n: n, rows: mine, accumulate: accumulate)
        return
    }
    if m < gemmMinRows {
        let mine = ThreadPool.range(of: n, part: t, parts: threads, grain: 4)
        for r in 0..<m {
            gemv(x.row(r), k: k, w, out + r * n, rows: mine, accumulate: accumulate)
        }
        return
    }
    let xBase = x.row(0)
    let panel = scratchPanels + t * panelStride
    let mine = ThreadPool.range(of: n, part: t, parts: threads, grain: panelRows)
    var t0 = 0
    while t0 < m {
        let t1 = min(t0 + tokenChunk, m)
        var j = mine.lowerBound
        while j < mine.upperBound {
            let width = min(panelRows, mine.upperBound - j)
            if width < panelRows {
                if quantised {
                    for i in t0..<t1 {
                        gemv(xBase + i * stride, k: k, w, out + i * n, rows: j..<(j + width), accumulate: accumulate)
                    }
                } else {
                    for r in 0..<width { dequantizePanelRow(w.type, w.row(j + r), panel + r * stride, cols: k, stride: stride) }
                    for i in t0..<t1 {
                        for r in 0..<width {
                            let v = dotF32(xBase + i * stride, panel + r * stride, stride)
                            if accumulate { out[i * n + j + r] += v } else { out[i * n + j + r] = v }
                        }
                    }
                }
            } else if quantised {
                decodeQuantPanel(w, rows: j, panel)
                var i = t0
                while i + 4 <= t1 {
                    quantTile(4, w.type, xBase + i * stride, stride: stride, panel, k: k, out + i * n + j, ldo: n, accumulate: accumulate)
                    i += 4
                }
                while i < t1 {
                    quantTile(1, w.type, xBase + i * stride, stride: stride, panel, k: k, out + i * n + j, ldo: n, accumulate: accumulate)
                    i += 1
                }
            } else {
                for r in 0..<width { dequantizePanelRow(w.type, w.row(j + r), panel + r * stride, cols: k, stride: stride) }
                var i = t0
                while i + 4 <= t1 {
                    tile4x4(xBase + i * stride, panel, k: stride, out + i * n + j, ldo: n, accumulate: accumulate)
                    i += 4
                }
                while i < t1 {
                    tile1x4(xBase + i * stride, panel, k: stride, out + i * n + j, accumulate: accumulate)
                    i += 1
                }
            }
            j += width
        }
        t0 = t1
    }
}

/// Decodes weight rows j…j+3 into `panel`: per block, for the pairs (j, j+1) and (j+2, j+3),
/// the four lane vectors and the scales (d of the first row in lanes 0–7, of the second in
/// 8–15); then, for Q4_1, each block's four minimums.
@inline(__always)
func decodeQuantPanel(_ w: WeightMatrix, rows j: Int, _ panel: UnsafeMutablePointer<Float>) {
    switch w.type {
    case .q4_1: decodeQuantPanel(w, rows: j, panel, blockBytes: 20, quantOffset: 4, hasMin: true, decode: nibbleLanesScaled)
    case .q4_0: decodeQuantPanel(w, rows: j, panel, blockBytes: 18, quantOffset: 2, hasMin: false, decode: nibbleLanesCentred)
    default: decodeQuantPanel(w, rows: j, panel, blockBytes: 34, quantOffset: 2, hasMin: false, decode: int8Lanes)
    }
}

@inline(__always)
func decodeQuantPanel(
    _ w: WeightMatrix, rows j: Int, _ panel: UnsafeMutablePointer<Float>,
    blockBytes: Int, quantOffset: Int, hasMin: Bool, decode: (UnsafeRawPointer, UnsafeRawPointer) -> BlockLanes
) {
    let nb = w.cols / 32
    let mins = panel + nb * quantPanelBlock
    for pair in 0..<2 {
        let a = w.row(j + 2 * pair), b = w.row(j + 2 * pair + 1)
        for blk in 0..<nb {
            let pa = a + blk * blockBytes, pb = b + blk * blockBytes
            let l = decode(pa + quantOffset, pb + quantOffset)
            let dst = panel + blk * quantPanelBlock + pair * 80
            storeVector(l.w0, dst)
            storeVector(l.w1, dst + 16)
            storeVector(l.w2, dst + 32)
            storeVector(l.w3, dst + 48)
            storeVector(SIMD16(lowHalf: SIMD8(repeating: halfToFloat(pa, 0)), highHalf: SIMD8(repeating: halfToFloat(pb, 0))), dst + 64)
            if hasMin {
                mins[4 * blk + 2 * pair] = halfToFloat(pa, 2)
                mins[4 * blk + 2 * pair + 1] = halfToFloat(pb, 2)
            }
        }
    }
}

/// One token's running state in the quantised tile: the lanes of both row pairs and the four
/// rows' summs.
struct QuantTileAcc {
    var p0 = SIMD16<Float>(), p1 = SIMD16<Float>()
    var mins = SIMD4<Float>()

    @inline(__always)
    mutating func add(
        _ x: UnsafePointer<Float>, blk: Int, k: Int, nb: Int, hasMin: Bool,
        _ w00: SIMD16<Float>, _ w01: SIMD16<Float>, _ w02: SIMD16<Float>, _ w03: SIMD16<Float>, _ d0: SIMD16<Float>,
        _ w10: SIMD16<Float>, _ w11: SIMD16<Float>, _ w12: SIMD16<Float>, _ w13: SIMD16<Float>, _ d1: SIMD16<Float>,
        _ m: SIMD4<Float>
    ) {
        let xb = x + 32 * blk
        let x0 = dup8(xb), x1 = dup8(xb + 8), x2 = dup8(xb + 16), x3 = dup8(xb + 24)
        let dx = SIMD16<Float>(repeating: x[k + blk])
        var xy0 = w00 * x0
        xy0.addProduct(w01, x1)
        xy0.addProduct(w02, x2)
        xy0.addProduct(w03, x3)
        p0.addProduct(d0 * dx, xy0)
        var xy1 = w10 * x0
        xy1.addProduct(w11, x1)
        xy1.addProduct(w12, x2)
        xy1.addProduct(w13, x3)
        p1.addProduct(d1 * dx, xy1)
        if hasMin { mins.addProduct(m, SIMD4(repeating: x[k + nb + blk])) }
    }

    @inline(__always)
    func store(_ out: UnsafeMutablePointer<Float>, accumulate: Bool) {
        let v = SIMD4(
            hsum8(p0.lowHalf) + mins[0], hsum8(p0.highHalf) + mins[1],
            hsum8(p1.lowHalf) + mins[2], hsum8(p1.highHalf) + mins[3])
        store4(v, out, accumulate)
    }
}

/// out[i·ldo + r] (+)= row r of the panel · token i, for `tokens` (1 or 4) tokens at x.
@inline(__always)
func quantTile(
    _ tokens: Int, _ type: QuantType, _ x: UnsafePointer<Float>, stride: Int,
    _ panel: UnsafePointer<Float>, k: Int, _ out: UnsafeMutablePointer<Float>, ldo: Int, accumulate: Bool
) {
    if type == .q4_1 {
        if tokens == 4 { quantTile4(x, stride: stride, panel, k: k, out, ldo: ldo, accumulate: accumulate, hasMin: true) }
        else { quantTile1(x, panel, k: k, out, accumulate: accumulate, hasMin: true) }
    } else {
        if tokens == 4 { quantTile4(x, stride: stride, panel, k: k, out, ldo: ldo, accumulate: accumulate, hasMin: false) }
        else { quantTile1(x, panel, k: k, out, accumulate: accumulate, hasMin: false) }
    }
}

@inline(__always)
func quantTile4(
    _ x: UnsafePointer<Float>, stride: Int, _ panel: UnsafePointer<Float>, k: Int,
    _ out: UnsafeMutablePointer<Float>, ldo: Int, accumulate: Bool, hasMin: Bool
) {
    let nb = k / 32
    let mins = panel + nb * quantPanelBlock
    var a0 = QuantTileAcc(), a1 = QuantTileAcc(), a2 = QuantTileAcc(), a3 = QuantTileAcc()
    let x0 = x, x1 = x + stride, x2 = x + 2 * stride, x3 = x + 3 * stride
    for blk in 0..<nb {
        let p = panel + blk * quantPanelBlock
        let w00 = loadVector(p), w01 = loadVector(p + 16), w02 = loadVector(p + 32), w03 = loadVector(p + 48), d0 = loadVector(p + 64)
        let w10 = loadVector(p + 80), w11 = loadVector(p + 96), w12 = loadVector(p + 112), w13 = loadVector(p + 128), d1 = loadVector(p + 144)
        let m = hasMin ? UnsafeRawPointer(mins + 4 * blk).loadUnaligned(as: SIMD4<Float>.self) : SIMD4<Float>()
        a0.add(x0, blk: blk, k: k, nb: nb, hasMin: hasMin, w00, w01, w02, w03, d0, w10, w11, w12, w13, d1, m)
        a1.add(x1, blk: blk, k: k, nb: nb, hasMin: hasMin, w00, w01, w02, w03, d0, w10, w11, w12, w13, d1, m)
        a2.add(x2, blk: blk, k: k, nb: nb, hasMin: hasMin, w00, w01, w02, w03, d0, w10, w11, w12, w13, d1, m)
        a3.add(x3, blk: blk, k: k, nb: nb, hasMin: hasMin, w00, w01, w02, w03, d0, w10, w11, w12, w13, d1, m)
    }
    a0.store(out, accumulate: accumulate)
    a1.store(out + ldo, accumulate: accumulate)
    a2.store(out + 2 * ldo, accumulate: accumulate)
    a3.store(out + 3 * ldo, accumulate: accumulate)
}

@inline(__always)
func quantTile1(
    _ x: UnsafePointer<Float>, _ panel: UnsafePointer<Float>, k: Int,
    _ out: UnsafeMutablePointer<Float>, accumulate: Bool, hasMin: Bool
) {
    let nb = k / 32
    let mins = panel + nb * quantPanelBlock
    var a0 = QuantTileAcc()
    for blk in 0..<nb {
        let p = panel + blk * quantPanelBlock
        let m = hasMin ? UnsafeRawPointer(mins + 4 * blk).loadUnaligned(as: SIMD4<Float>.self) : SIMD4<Float>()
        a0.add(x, blk: blk, k: k, nb: nb, hasMin: hasMin,
               loadVector(p), loadVector(p + 16), loadVector(p + 32), loadVector(p + 48), loadVector(p + 64),
               loadVector(p + 80), loadVector(p + 96), loadVector(p + 112), loadVector(p + 128), loadVector(p + 144), m)
    }
    a0.store(out, accumulate: accumulate)
}

/// An f32/f16 weight row as f32, then zeros to `stride`.
@inline(__always)
func dequantizePanelRow(_ type: QuantType, _ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, cols k: Int, stride: Int) {
    dequantizeRow(type, src, dst, count: k)
    for i in k..<stride { dst[i] = 0 }
}

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
