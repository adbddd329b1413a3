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
}
