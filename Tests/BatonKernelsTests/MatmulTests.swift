// The matmul against plain references, for every weight type, on the GEMV (1 row), batched GEMV
// (2–64 rows of quantised weights) and GEMM (≥ 4 rows of f32/f16, > 64 rows) paths and both
// thread counts. Quantised weights: a scalar transcription of
// ggml's vec_dot kernels (quantize_row_q8_0/q8_1 and ggml_vec_dot_{q4_1_q8_1,q4_0_q8_0,q8_0_q8_0},
// AVX2/VNNI path), which the kernels must equal bit for bit. f32/f16 weights: a double-precision
// dot product, within a tolerance.

import BatonTesting
import Testing
@testable import BatonKernels

@Suite struct MatmulTests {
    /// ggml's Q8 rounding of one row: per block q (half to even of x·127/amax), d = f16(amax/127)
    /// and s = f16(amax/127 · Σq).
    static func quantizeQ8(_ x: [Float]) -> (q: [Int32], d: [Float], s: [Float]) {
        var q: [Int32] = [], d: [Float] = [], s: [Float] = []
        for b in 0..<(x.count / 32) {
            let block = x[(b * 32)..<(b * 32 + 32)]
            let amax = block.map(abs).max()!
            let dd = amax / 127, id: Float = amax == 0 ? 0 : 127 / amax
            let qb = block.map { ($0 * id).rounded(.toNearestOrEven) }
            q += qb.map { Int32($0) }
            d.append(Float(Float16(dd)))
            s.append(Float(Float16(dd * qb.reduce(0, +))))
        }
        return (q, d, s)
    }

    static func half(_ bytes: [UInt8], _ at: Int) -> Float {
        Float(Float16(bitPattern: UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8))
    }

    /// The weight row's blocks as (d, m, q) with q in element order (Q4: low nibbles are
    /// elements 0–15, high nibbles 16–31; Q4_0 centred by −8).
    static func weightBlocks(_ bytes: [UInt8], row: Int, k: Int, type: QuantType) -> [(d: Float, m: Float, q: [Int32])] {
        let nb = k / 32, size = type.blockBytes
        return (0..<nb).map { b in
            let at = (row * nb + b) * size
            switch type {
            case .q4_1:
                let qs = bytes[(at + 4)..<(at + 20)]
                return (half(bytes, at), half(bytes, at + 2), qs.map { Int32($0 & 15) } + qs.map { Int32($0 >> 4) })
            case .q4_0:
                let qs = bytes[(at + 2)..<(at + 18)]
                return (half(bytes, at), 0, qs.map { Int32($0 & 15) - 8 } + qs.map { Int32($0 >> 4) - 8 })
            default:
                return (half(bytes, at), 0, bytes[(at + 2)..<(at + 34)].map { Int32(Int8(bitPattern: $0)) })
            }
        }
    }

    /// ggml's vec_dot for one weight row and one activation row, operation by operation.
    static func ggmlDot(_ w: [(d: Float, m: Float, q: [Int32])], _ x: (q: [Int32], d: [Float], s: [Float]), q4_1: Bool) -> Float {
        var acc = [Float](repeating: 0, count: 8)
        var summs: Float = 0
        for (b, blk) in w.enumerated() {
            let d0d1 = blk.d * x.d[b]
            if q4_1 { summs = summs.addingProduct(blk.m, x.s[b]) }
            for j in 0..<8 {
                var sumi: Int32 = 0
                for t in 0..<4 { sumi += blk.q[4 * j + t] * x.q[32 * b + 4 * j + t] }
                acc[j] = acc[j].addingProduct(d0d1, Float(sumi))
            }
        }
        let h = ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]))
        return q4_1 ? h + summs : h
    }

    /// f32/f16 weights: Σ x'·w in double, x' the activations as rounded for the type.
    static func floatReference(x: [Float], w: [Float], type: QuantType, m: Int, n: Int, k: Int) -> [Double] {
        var out = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            let xr = x[(i * k)..<(i * k + k)].map { type == .f16 ? Float(Float16($0)) : $0 }
            for j in 0..<n {
                var s = 0.0
                for c in 0..<k { s += Double(xr[c]) * Double(w[j * k + c]) }
                out[i * n + j] = s
            }
        }
        return out
    }

    /// (threads, VNNI kernel, its wide form): the Swift kernels everywhere, both VNNI forms where
    /// the CPU has VNNI.
    static let kernelChoices: [(Int, Bool, Bool)] = [(1, false, false), (2, false, false)]
        + (MatmulScratch.vnniAvailable ? [(1, true, false), (2, true, false), (1, true, true), (2, true, true)] : [])

    @Test(arguments: [QuantType.f32, .f16, .q8_0, .q4_0, .q4_1], [1, 2, 3, 4, 5, 7, 8, 16, 17, 33, 64, 65, 70, 129])
    func matchesReference(type: QuantType, m: Int) {
        let n = 37, k = 96  // odd n: the GEMV's pair and single-row tails, the GEMM's narrow panel, the batched GEMV's narrow quad
        var rng = SplitMix(seed: UInt64(m) &* 31 &+ UInt64(type.rawValue))
        let wValues = (0..<(n * k)).map { _ in rng.nextSigned() }
        let x = (0..<(m * k)).map { _ in rng.nextSigned() }
        let (bytes, decoded) = Quantize.encode(wValues, rowLength: k, type: type)
        let quantised = type != .f32 && type != .f16
        var expected = [Float](repeating: 0, count: m * n)
        var expectedDouble: [Double] = []
        if quantised {
            let blocks = (0..<n).map { Self.weightBlocks(bytes, row: $0, k: k, type: type) }
            for i in 0..<m {
                let xq = Self.quantizeQ8(Array(x[(i * k)..<(i * k + k)]))
                for j in 0..<n { expected[i * n + j] = 0.5 + Self.ggmlDot(blocks[j], xq, q4_1: type == .q4_1) }
            }
        } else {
            expectedDouble = Self.floatReference(x: x, w: decoded, type: type, m: m, n: n, k: k)
        }
        // Both batched-GEMV kernels where the CPU has VNNI; the Swift one everywhere.
        for (threads, vnni, wide) in Self.kernelChoices {
            let pool = ThreadPool(threads: threads)
            let scratch = MatmulScratch(maxK: k, threads: threads, useVNNI: vnni, vnniWide: wide)
            let prepared = ActivationBuffer(maxRows: m, maxCols: k)
            prepared.prepare(x, rows: m, cols: k, for: type, pool: pool)
            var out = [Float](repeating: 0.5, count: m * n)
            bytes.withUnsafeBytes { raw in
                let w = WeightMatrix(data: raw.baseAddress!, type: type, rows: n, cols: k)
                out.withUnsafeMutableBufferPointer { op in
                    matmul(prepared, w, op.baseAddress!, accumulate: true, scratch: scratch, pool: pool)
                }
            }
            for i in 0..<(m * n) {
                if quantised {
                    // Bitwise: the GEMV and the GEMM both reproduce ggml's rounding exactly.
                    #expect(out[i].bitPattern == expected[i].bitPattern, "type \(type) m \(m) threads \(threads) vnni \(vnni) wide \(wide) index \(i): \(out[i]) vs \(expected[i])")
                } else {
                    #expect(abs(Double(out[i]) - (expectedDouble[i] + 0.5)) < 1e-3, "type \(type) m \(m) threads \(threads) index \(i)")
                }
            }
        }
    }

    /// Two weights in one parallel region (`matmul(x, jobs)`, as q/k/v and gate/up run) give
    /// each the bits `matmul` gives it alone, with the activations prepared without the float
    /// lanes wherever no kernel reads them.
    @Test(arguments: [QuantType.q8_0, .q4_0, .q4_1, .f16], [1, 3, 16, 65])
    func fusedMatchesAlone(type: QuantType, m: Int) {
        let k = 64, n0 = 37, n1 = 12
        var rng = SplitMix(seed: UInt64(m) &* 7 &+ UInt64(type.rawValue))
        let x = (0..<(m * k)).map { _ in rng.nextSigned() }
        let w0 = Quantize.encode((0..<(n0 * k)).map { _ in rng.nextSigned() }, rowLength: k, type: type).0
        let w1 = Quantize.encode((0..<(n1 * k)).map { _ in rng.nextSigned() }, rowLength: k, type: type).0
        for (threads, vnni, wide) in Self.kernelChoices {
            let pool = ThreadPool(threads: threads)
            let scratch = MatmulScratch(maxK: k, threads: threads, useVNNI: vnni, vnniWide: wide)
            let full = ActivationBuffer(maxRows: m, maxCols: k)
            full.prepare(x, rows: m, cols: k, for: type, pool: pool)
            let lean = ActivationBuffer(maxRows: m, maxCols: k)
            let lanes = matmulReadsLanes(rows: m, type: type, scratch: scratch)
            lean.prepare(x, rows: m, cols: k, for: type, lanes: lanes, pool: pool)
            #expect(lean.hasLanes == lanes)
            var alone0 = [Float](repeating: 0, count: m * n0), alone1 = [Float](repeating: 0, count: m * n1)
            var fused0 = alone0, fused1 = alone1
            w0.withUnsafeBytes { r0 in
                w1.withUnsafeBytes { r1 in
                    let a = WeightMatrix(data: r0.baseAddress!, type: type, rows: n0, cols: k)
                    let b = WeightMatrix(data: r1.baseAddress!, type: type, rows: n1, cols: k)
                    alone0.withUnsafeMutableBufferPointer { matmul(full, a, $0.baseAddress!, scratch: scratch, pool: pool) }
                    alone1.withUnsafeMutableBufferPointer { matmul(full, b, $0.baseAddress!, scratch: scratch, pool: pool) }
                    fused0.withUnsafeMutableBufferPointer { o0 in
                        fused1.withUnsafeMutableBufferPointer { o1 in
                            matmul(lean, [(a, o0.baseAddress!), (b, o1.baseAddress!)], scratch: scratch, pool: pool)
                        }
                    }
                }
            }
            #expect(fused0.map(\.bitPattern) == alone0.map(\.bitPattern), "type \(type) m \(m) threads \(threads) vnni \(vnni) wide \(wide)")
            #expect(fused1.map(\.bitPattern) == alone1.map(\.bitPattern), "type \(type) m \(m) threads \(threads) vnni \(vnni) wide \(wide)")
        }
    }

    @Test func dequantizeMatchesTheEncoderDecoding() {
        var rng = SplitMix(seed: 7)
        let values = (0..<128).map { _ in rng.nextSigned() * 3 }
        for type in QuantType.allCases {
            let (bytes, decoded) = Quantize.encode(values, rowLength: 128, type: type)
            var out = [Float](repeating: 0, count: 128)
            bytes.withUnsafeBytes { raw in
                out.withUnsafeMutableBufferPointer { dequantizeRow(type, raw.baseAddress!, $0.baseAddress!, count: 128) }
            }
            #expect(out == decoded, "\(type)")
            // Error stays within one quantisation step of the block (Q4_0 clamps one end by a step).
            let tolerance: Float = type == .f32 ? 0 : type == .f16 ? 0.002 : type == .q8_0 ? 0.03 : 0.45
            for (a, b) in zip(out, values) { #expect(abs(a - b) <= tolerance, "\(type)") }
        }
    }
}

@Suite struct ElementwiseTests {
    @Test func expIsAccurate() {
        var x: Float = -80
        while x < 80 {
            let e = expScalar(x), ref = Float(Foundation_exp(Double(x)))
            #expect(abs(e - ref) <= ref * 2e-6, "exp(\(x))")
            x += 0.37
        }
        #expect(expScalar(-Float.infinity) < 1e-37)
    }

    /// ggml_v_expf written with scalar FMAs and an exact 2ⁿ scaling (scalef), against the vector
    /// kernel, from underflow through overflow.
    @Test func ggmlExpIsBitExact() {
        func scalar(_ x: Float) -> Float {
            let r: Float = 0x1.8p23
            let z = r.addingProduct(x, 0x1.715476p+0)
            let n = z - r
            let b = x.addingProduct(-n, 0x1.62e4p-1).addingProduct(-n, 0x1.7f7d1cp-20)
            let u = b * b
            let p1 = Float(0x1.573e2ep-5).addingProduct(0x1.0e4020p-7, b)
            let p2 = Float(0x1.fffdb6p-2).addingProduct(0x1.555e66p-3, b)
            let p3 = Float(1).addingProduct(0x1.ffffecp-1, b)
            let j = p3.addingProduct(p2.addingProduct(p1, u), u)
            if abs(n) > 192 { return n <= 0 ? 0 : .infinity }
            return Float(Double(j) * Foundation_exp2(Double(n)))  // j·2ⁿ exact in double, one rounding
        }
        var values: [Float] = [-.infinity, .infinity, 0, -0.0, -150, -104, -103.5, -100, -88, -87.5, 88.5, 89, 100]
        var x: Float = -120
        while x < 120 { values.append(x); x += 0.0173 }
        for start in stride(from: 0, to: values.count - 15, by: 16) {
            let v = SIMD16<Float>(values[start..<(start + 16)])
            let e = ggmlExpVector(v)
            for i in 0..<16 {
                #expect(e[i].bitPattern == scalar(v[i]).bitPattern, "exp(\(v[i])) = \(e[i]) vs \(scalar(v[i]))")
            }
        }
    }

    @Test func softmaxSumsToOne() {
        var v: [Float] = (0..<48).map { Float($0) * 0.3 - 4 }  // room for the padding to 16
        v.withUnsafeMutableBufferPointer { softmax($0.baseAddress!, count: 37) }
        #expect(v[37..<48].allSatisfy { $0 == 0 })
        v.removeLast(11)
        #expect(abs(v.reduce(0, +) - 1) < 1e-5)
        #expect(v[36] > v[0])
    }

    @Test func rmsNormMatchesDefinition() {
        let x: [Float] = (0..<32).map { Float($0) - 10 }
        let w: [Float] = (0..<32).map { 1 + Float($0) / 32 }
        var out = [Float](repeating: 0, count: 32)
        rmsNorm(x, w, &out, count: 32, eps: 1e-5)
        let rms = (x.map { Double($0 * $0) }.reduce(0, +) / 32 + 1e-5).squareRoot()
        for i in 0..<32 { #expect(abs(Double(out[i]) - Double(x[i]) / rms * Double(w[i])) < 1e-5) }
    }
}

#if canImport(Glibc)
import Glibc
func Foundation_exp(_ x: Double) -> Double { Glibc.exp(x) }
func Foundation_exp2(_ x: Double) -> Double { Glibc.exp2(x) }
#else
import Darwin
func Foundation_exp(_ x: Double) -> Double { Darwin.exp(x) }
func Foundation_exp2(_ x: Double) -> Double { Darwin.exp2(x) }
#endif
