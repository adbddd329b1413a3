// Paged attention against a direct computation over a contiguous copy of K and V: two
// sequences whose blocks are scattered and interleaved in the cache.

import BatonTesting
import BatonKernelsC
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
    /// Both paths where the CPU has AVX-512, the Swift one everywhere.
    static let paths = [(1, false), (2, false)] + (avx512Available ? [(1, true), (2, true)] : [])

    @Test(arguments: Self.paths)
    func roundingFollowsGGML(threads: Int, avx512: Bool) {
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
                        attention(q: q, kCache: kCache, vCache: vCache, out: &out, tokens: positions.count, heads: heads, kvHeads: kvHeads, headDim: headDim, layout: layout, scratch: &scratch, maxContext: maxContext, pool: pool, avx512: avx512)
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

    /// The AVX-512 item kernels (Attention.c) against the Swift loops, bit for bit: SmolLM2's
    /// shape (9 heads on 3 KV heads of 64) and two others, sequences whose blocks are scattered
    /// over the pool, prompt tokens and generated ones in one batch, lengths from 1 past 200.
    @Test(.enabled(if: avx512Available, "the CPU has no AVX-512"), arguments: [(9, 3, 64), (8, 2, 64), (4, 2, 128), (2, 2, 64)])
    func avx512MatchesSwift(heads: Int, kvHeads: Int, headDim: Int) {
        let kvDim = kvHeads * headDim, qDim = heads * headDim, group = heads / kvHeads
        let blockSize = 16, blocksPerSeq = 14, sequencesCount = 3, poolBlocks = 48
        let maxContext = blocksPerSeq * blockSize
        var rng = SplitMix(seed: UInt64(heads * 1000 + kvHeads * 10 + headDim))
        let slots = poolBlocks * blockSize
        let kCache = (0..<(slots * kvDim)).map { _ in Float16(rng.nextSigned() * 2) }
        let vCache = (0..<(slots * kvDim)).map { _ in Float16(rng.nextSigned()) }
        // Each sequence takes blocks from a shuffled pool.
        var free = Array(Int32(0)..<Int32(poolBlocks))
        for i in stride(from: free.count - 1, to: 0, by: -1) { free.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        let tables = Array(free.prefix(sequencesCount * blocksPerSeq))
        // Sequence 0: a prefill chunk (positions 40..<60 of a 60-token prompt); sequence 1: decodes
        // at 63, 64, 65 and 130 (prompt 20); sequence 2: a decode at 200 and prompt tokens 0, 1.
        let positions: [Int32] = Array(40..<60) + [63, 64, 65, 130, 200, 0, 1, 15, 16, 17]
        let sequences: [Int32] = Array(repeating: 0, count: 20) + [1, 1, 1, 1, 2, 2, 2, 2, 2, 2]
        let promptLengths: [Int32] = [60, 20, 150]
        let tokens = positions.count
        let q = (0..<(tokens * qDim)).map { _ in rng.nextSigned() * 3 }
        for threads in [1, 2] {
            let pool = ThreadPool(threads: threads)
            func run(_ avx512: Bool) -> [Float] {
                var out = [Float](repeating: .nan, count: tokens * qDim)
                var scratch = [Float](repeating: .nan, count: attentionScratchCount(threads: threads, group: group, headDim: headDim, maxContext: maxContext))
                positions.withUnsafeBufferPointer { pos in
                    sequences.withUnsafeBufferPointer { seq in
                        tables.withUnsafeBufferPointer { tab in
                            promptLengths.withUnsafeBufferPointer { prompts in
                                let layout = AttentionLayout(
                                    positions: pos.baseAddress!, sequences: seq.baseAddress!, blockTables: tab.baseAddress!,
                                    blocksPerSequence: blocksPerSeq, blockSize: blockSize, promptLengths: prompts.baseAddress!)
                                attention(q: q, kCache: kCache, vCache: vCache, out: &out, tokens: tokens, heads: heads, kvHeads: kvHeads, headDim: headDim, layout: layout, scratch: &scratch, maxContext: maxContext, pool: pool, avx512: avx512)
                            }
                        }
                    }
                }
                return out
            }
            let swift = run(false), vectorized = run(true)
            let differences = zip(swift, vectorized).filter { $0.0.bitPattern != $0.1.bitPattern }.count
            #expect(differences == 0, "threads \(threads): \(differences) of \(swift.count) outputs differ")
            #expect(!swift.contains { $0.isNaN })
        }
    }

    /// The scores alone (the f16 rounding of the weights hides most one-ulp differences in
    /// them from the outputs): Attention.c's q·k of 16 positions at once against the Swift
    /// dots, both orders, lengths that end inside a group of 16.
    @Test(.enabled(if: avx512Available, "the CPU has no AVX-512"), arguments: [false, true])
    func avx512ScoresMatchSwiftDots(decode: Bool) {
        for (group, headDim) in [(3, 64), (2, 128)] {
            let kvHeads = 2, kvDim = kvHeads * headDim, blockSize = 16, length = 77
            var rng = SplitMix(seed: decode ? 5 : 6)
            let table: [Int32] = [3, 0, 4, 1, 2]
            let kCache = (0..<(table.count * blockSize * kvDim)).map { _ in Float16(rng.nextSigned() * 2) }
            let qRounded = (0..<(group * headDim)).map { _ in Float(Float16(rng.nextSigned() * 3)) }
            let rowStride = 80
            var scores = [Float](repeating: .nan, count: group * rowStride)
            var rows = [Int](repeating: -1, count: length)
            let scale: Float = 0.125
            kCache.withUnsafeBufferPointer { k in
                let keys = UnsafePointer<UInt16>(OpaquePointer(k.baseAddress!))
                baton_attention_scores(
                    qRounded, keys, keys, table, blockSize, kvDim, headDim, length, decode ? 1 : 0, scale, Int32(group), headDim,
                    &scores, rowStride, &rows, 1)
            }
            var mismatches = 0
            for p in 0..<length {
                let slot = Int(table[p / blockSize]) * blockSize + p % blockSize
                #expect(rows[p] == slot * kvDim)
                let k = (0..<headDim).map { Float(kCache[slot * kvDim + headDim + $0]) }
                for h in 0..<group {
                    let want = qRounded.withUnsafeBufferPointer { qp in
                        k.withUnsafeBufferPointer { kp in
                            (decode ? dotVecDot(qp.baseAddress! + h * headDim, kp.baseAddress!, headDim)
                                    : dotTinyBLAS(qp.baseAddress! + h * headDim, kp.baseAddress!, headDim)) * scale
                        }
                    }
                    if scores[h * rowStride + p].bitPattern != want.bitPattern { mismatches += 1 }
                }
            }
            #expect(mismatches == 0, "group \(group) headDim \(headDim): \(mismatches) scores differ")
        }
    }
}
