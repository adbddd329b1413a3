// The matmul against a plain double-precision reference over the decoded weights, for every
// weight type, on both the GEMV (1–3 rows) and GEMM (≥ 4 rows) paths and both thread counts.

import BatonTesting
import Testing
@testable import BatonKernels

@Suite struct MatmulTests {
    /// ggml's activation rounding, written plainly: Q8 blocks (d = amax/127 in f16, q rounded
    /// half to even), or f16.
    static func roundActivations(_ x: [Float], type: QuantType) -> (values: [Float], sums: [Float]) {
        switch type.activationFormat {
        case .f32: return (x, [])
        case .f16: return (x.map { Float(Float16($0)) }, [])
        case .q8_0, .q8_1:
            var values: [Float] = [], sums: [Float] = []
            for b in 0..<(x.count / 32) {
                let block = x[(b * 32)..<(b * 32 + 32)]
                let amax = block.map(abs).max()!
                let d = amax / 127, id: Float = amax == 0 ? 0 : 127 / amax
                let q = block.map { ($0 * id).rounded(.toNearestOrEven) }
                values += q.map { $0 * Float(Float16(d)) }
                sums.append(Float(Float16(d * q.reduce(0, +))))
            }
            return (values, sums)
        }
    }

    /// Σ over blocks of w·x', with Q4_1's minimum times Q8_1's s as ggml computes it.
    static func reference(x: [Float], wBytes: [UInt8], w: [Float], type: QuantType, m: Int, n: Int, k: Int) -> [Double] {
        var out = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            let (xr, sums) = roundActivations(Array(x[(i * k)..<(i * k + k)]), type: type)
            for j in 0..<n {
                var s = 0.0
                if type == .q4_1 {
                    for b in 0..<(k / 32) {
                        let blockStart = (j * (k / 32) + b) * 20
                        let mw = Double(Float(Float16(bitPattern: UInt16(wBytes[blockStart + 2]) | UInt16(wBytes[blockStart + 3]) << 8)))
                        for c in (b * 32)..<(b * 32 + 32) { s += (Double(w[j * k + c]) - mw) * Double(xr[c]) }
                        s += mw * Double(sums[b])
                    }
                } else {
                    for c in 0..<k { s += Double(xr[c]) * Double(w[j * k + c]) }
                }
                out[i * n + j] = s
            }
        }
        return out
    }

    @Test(arguments: [QuantType.f32, .f16, .q8_0, .q4_0, .q4_1], [1, 3, 4, 7, 70])
    func matchesReference(type: QuantType, m: Int) {
        let n = 36, k = 96
        var rng = SplitMix(seed: UInt64(m) &* 31 &+ UInt64(type.rawValue))
        let wValues = (0..<(n * k)).map { _ in rng.nextSigned() }
        let x = (0..<(m * k)).map { _ in rng.nextSigned() }
        let (bytes, decoded) = Quantize.encode(wValues, rowLength: k, type: type)
        let expected = Self.reference(x: x, wBytes: bytes, w: decoded, type: type, m: m, n: n, k: k)
        for threads in [1, 2] {
            let pool = ThreadPool(threads: threads)
            let scratch = MatmulScratch(maxK: k, threads: threads)
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
                #expect(abs(Double(out[i]) - (expected[i] + 0.5)) < 1e-3, "type \(type) m \(m) threads \(threads) index \(i)")
            }
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
#else
import Darwin
func Foundation_exp(_ x: Double) -> Double { Darwin.exp(x) }
#endif
