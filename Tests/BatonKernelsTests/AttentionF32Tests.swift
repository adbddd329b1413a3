// f32-cache attention against a direct f64 computation: two sequences with scattered blocks.

import BatonTesting
import Testing
@testable import BatonKernels

@Suite struct AttentionF32Tests {
    @Test(arguments: [1, 2])
    func pagedF32AttentionMatchesDirectComputation(threads: Int) {
        let heads = 6, kvHeads = 2, headDim = 32, blockSize = 4, blocksPerSeq = 5
        let kvDim = kvHeads * headDim, qDim = heads * headDim, group = heads / kvHeads
        let slots = 10 * blockSize
        var rng = SplitMix(seed: 11)
        let kCache = (0..<(slots * kvDim)).map { _ in rng.nextSigned() }
        let vCache = (0..<(slots * kvDim)).map { _ in rng.nextSigned() }
        let tables: [Int32] = [9, 1, 6, 3, 0, 2, 7, 4, 8, 5]
        let positions: [Int32] = [0, 17, 18, 19, 5]
        let sequences: [Int32] = [0, 0, 0, 0, 1]
        let tokens = positions.count
        let q = (0..<(tokens * qDim)).map { _ in rng.nextSigned() * 2 }
        var out = [Float](repeating: 0, count: tokens * qDim)
        let maxContext = blocksPerSeq * blockSize
        var scratch = [Float](repeating: 0, count: attentionScratchCount(threads: threads, group: group, headDim: headDim, maxContext: maxContext))
        positions.withUnsafeBufferPointer { pos in
            sequences.withUnsafeBufferPointer { seq in
                tables.withUnsafeBufferPointer { tab in
                    let layout = AttentionLayout(
                        positions: pos.baseAddress!, sequences: seq.baseAddress!, blockTables: tab.baseAddress!,
                        blocksPerSequence: blocksPerSeq, blockSize: blockSize)
                    attentionF32(
                        q: q, kCache: kCache, vCache: vCache, out: &out, tokens: tokens, heads: heads, kvHeads: kvHeads,
                        headDim: headDim, layout: layout, scratch: &scratch, maxContext: maxContext, pool: ThreadPool(threads: threads))
                }
            }
        }
        var worst = 0.0
        for t in 0..<tokens {
            let s = Int(sequences[t]), length = Int(positions[t]) + 1
            for h in 0..<heads {
                let g = h / group
                func slot(_ p: Int) -> Int { Int(tables[s * blocksPerSeq + p / blockSize]) * blockSize + p % blockSize }
                let scores = (0..<length).map { p in
                    (0..<headDim).reduce(0.0) { $0 + Double(q[t * qDim + h * headDim + $1]) * Double(kCache[slot(p) * kvDim + g * headDim + $1]) }
                        / Double(headDim).squareRoot()
                }
                let m = scores.max()!
                let e = scores.map { Foundation_exp($0 - m) }
                let total = e.reduce(0, +)
                for c in 0..<headDim {
                    let want = (0..<length).reduce(0.0) { $0 + e[$1] / total * Double(vCache[slot($1) * kvDim + g * headDim + c]) }
                    worst = max(worst, abs(Double(out[t * qDim + h * headDim + c]) - want))
                }
            }
        }
        // f32 throughout (no f16 rounding): agreement to float precision.
        #expect(worst < 1e-5, "max |error| \(worst)")
    }
}
