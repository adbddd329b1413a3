// Paged attention against a direct computation over a contiguous copy of K and V: two
// sequences whose blocks are scattered and interleaved in the cache.

import BatonTesting
import Testing
@testable import BatonKernels

@Suite struct AttentionTests {
    @Test(arguments: [1, 2])
    func pagedAttentionMatchesContiguous(threads: Int) {
        let heads = 4, kvHeads = 2, headDim = 16, blockSize = 4, blocksPerSeq = 3
        let kvDim = kvHeads * headDim, qDim = heads * headDim
        let slots = 8 * blockSize
        var rng = SplitMix(seed: 3)
        let kCache = (0..<(slots * kvDim)).map { _ in Float16(rng.nextSigned()) }
        let vCache = (0..<(slots * kvDim)).map { _ in Float16(rng.nextSigned()) }
        // Sequence 0 uses blocks 5, 1, 6; sequence 1 uses 2, 7, 0.
        let tables: [Int32] = [5, 1, 6, 2, 7, 0]
        // Tokens: seq 0 at positions 9, 10; seq 1 at position 0 and 11.
        let positions: [Int32] = [9, 10, 0, 11]
        let sequences: [Int32] = [0, 0, 1, 1]
        let tokens = positions.count
        let q = (0..<(tokens * qDim)).map { _ in rng.nextSigned() }
        var out = [Float](repeating: 0, count: tokens * qDim)
        let pool = ThreadPool(threads: threads)
        let maxContext = blocksPerSeq * blockSize
        var scratch = [Float](repeating: 0, count: attentionScratchCount(threads: threads, group: 2, headDim: headDim, maxContext: maxContext))
        positions.withUnsafeBufferPointer { pos in
            sequences.withUnsafeBufferPointer { seq in
                tables.withUnsafeBufferPointer { tab in
                    let layout = AttentionLayout(positions: pos.baseAddress!, sequences: seq.baseAddress!, blockTables: tab.baseAddress!, blocksPerSequence: blocksPerSeq, blockSize: blockSize)
                    attention(q: q, kCache: kCache, vCache: vCache, out: &out, tokens: tokens, heads: heads, kvHeads: kvHeads, headDim: headDim, layout: layout, scratch: &scratch, maxContext: maxContext, pool: pool)
                }
            }
        }
        for t in 0..<tokens {
            let s = Int(sequences[t]), length = Int(positions[t]) + 1
            for h in 0..<heads {
                let g = h / (heads / kvHeads)
                var scores: [Double] = []
                for p in 0..<length {
                    let slot = Int(tables[s * blocksPerSeq + p / blockSize]) * blockSize + p % blockSize
                    var dot = 0.0
                    for c in 0..<headDim { dot += Double(q[t * qDim + h * headDim + c]) * Double(kCache[slot * kvDim + g * headDim + c]) }
                    scores.append(dot / Double(headDim).squareRoot())
                }
                let maxScore = scores.max()!
                let e = scores.map { Foundation_exp($0 - maxScore) }
                let total = e.reduce(0, +)
                for c in 0..<headDim {
                    var acc = 0.0
                    for p in 0..<length {
                        let slot = Int(tables[s * blocksPerSeq + p / blockSize]) * blockSize + p % blockSize
                        acc += e[p] / total * Double(vCache[slot * kvDim + g * headDim + c])
                    }
                    // q and the weights are rounded to f16, as in ggml: a relative error of ~1e-3.
                    #expect(abs(Double(out[t * qDim + h * headDim + c]) - acc) < 3e-3)
                }
            }
        }
    }

    /// ggml's rounding, transcribed plainly: q·k and p·v as tinyBLAS (several tokens) or
    /// ggml_vec_dot_f16 (one token) sum them, softmax as ggml_vec_soft_max_f32. The kernel must
    /// match it bit for bit, in a prefill batch and in one-token decodes past 64 positions.
    @Test(arguments: [1, 2])
    func roundingFollowsGGML(threads: Int) {
        let heads = 4, kvHeads = 2, headDim = 64, kvDim = kvHeads * headDim, qDim = heads * headDim
        let maxContext = 80
        var rng = SplitMix(seed: 11)
        let kCache = (0..<(maxContext * kvDim)).map { _ in Float16(rng.nextSigned() * 2) }
        let vCache = (0..<(maxContext * kvDim)).map { _ in Float16(rng.nextSigned()) }
        let table: [Int32] = [0]
        let pool = ThreadPool(threads: threads)
        var scratch = [Float](repeating: 0, count: attentionScratchCount(threads: threads, group: 2, headDim: headDim, maxContext: maxContext))

        func reduce16(_ v: [Float]) -> Float {
            let a = (0..<8).map { v[$0 + 8] + v[$0] }, b = (0..<4).map { a[$0 + 4] + a[$0] }
            return (b[0] + b[2]) + (b[1] + b[3])
        }
        /// Σ a·b over `lanes` (16 or 64) f32 lanes, lane i mod lanes, FMAs in order, then ggml's
        /// reduction; for 64 lanes ggml_vec_dot_f16's (its leftovers are not needed here).
        func laneDot(_ a: [Float], _ b: [Float], lanes: Int) -> Float {
            var acc = [Float](repeating: 0, count: lanes)
            for i in a.indices { acc[i % lanes] = acc[i % lanes].addingProduct(a[i], b[i]) }
            if lanes == 16 { return reduce16(acc) }
            return reduce16((0..<16).map { (acc[$0] + acc[32 + $0]) + (acc[16 + $0] + acc[48 + $0]) })
        }
        func expected(q: [Float], position: Int, decode: Bool) -> [Float] {
            var out: [Float] = []
            for h in 0..<heads {
                let g = h / (heads / kvHeads), length = position + 1
                let qh = q[(h * headDim)..<((h + 1) * headDim)].map { Float(Float16($0)) }
                var w: [Float] = (0..<length).map { p in
                    let k = (0..<headDim).map { Float(kCache[p * kvDim + g * headDim + $0]) }
                    return laneDot(qh, k, lanes: decode ? 64 : 16) * 0.125
                }
                let m = w.max()!
                var e = w.map { ggmlExpVector(SIMD16(repeating: $0 - m))[0] }
                while e.count % 16 != 0 { e.append(0) }
                var sum = 0.0
                for s in stride(from: 0, to: e.count, by: 16) { sum += Double(reduce16(Array(e[s..<(s + 16)]))) }
                let inv = Float(1 / sum)
                w = (0..<length).map { Float(Float16(e[$0] * inv)) }
                for c in 0..<headDim {
                    let v = (0..<length).map { Float(vCache[$0 * kvDim + g * headDim + c]) }
                    out.append(laneDot(w, v, lanes: decode ? 64 : 16))
                }
            }
            return out
        }
        func run(_ positions: [Int32], _ q: [Float]) -> [Float] {
            let sequences = [Int32](repeating: 0, count: positions.count)
            var out = [Float](repeating: 0, count: positions.count * qDim)
            positions.withUnsafeBufferPointer { pos in
                sequences.withUnsafeBufferPointer { seq in
                    table.withUnsafeBufferPointer { tab in
                        let layout = AttentionLayout(positions: pos.baseAddress!, sequences: seq.baseAddress!, blockTables: tab.baseAddress!, blocksPerSequence: 1, blockSize: maxContext)
                        attention(q: q, kCache: kCache, vCache: vCache, out: &out, tokens: positions.count, heads: heads, kvHeads: kvHeads, headDim: headDim, layout: layout, scratch: &scratch, maxContext: maxContext, pool: pool)
                    }
                }
            }
            return out
        }
        func firstDifference(_ a: [Float], _ b: [Float]) -> Int? {
            zip(a, b).enumerated().first { $0.element.0.bitPattern != $0.element.1.bitPattern }?.offset
        }
        // A prefill batch of 20 tokens, then one-token decodes at positions 20, 63, 64 and 79.
        let prefill = (0..<20).map(Int32.init)
        let qBatch = (0..<(prefill.count * qDim)).map { _ in rng.nextSigned() * 3 }
        let got = run(prefill, qBatch)
        for (i, p) in prefill.enumerated() {
            let want = expected(q: Array(qBatch[(i * qDim)..<((i + 1) * qDim)]), position: Int(p), decode: false)
            #expect(firstDifference(Array(got[(i * qDim)..<((i + 1) * qDim)]), want) == nil, "prefill position \(p)")
        }
        for p in [20, 63, 64, 79] {
            let q = (0..<qDim).map { _ in rng.nextSigned() * 3 }
            #expect(firstDifference(run([Int32(p)], q), expected(q: q, position: p, decode: true)) == nil, "decode position \(p)")
        }
    }
}
