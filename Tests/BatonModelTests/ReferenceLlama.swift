// A plain scalar Llama in Double, straight from the definitions, to check the optimised forward
// pass against: no batching, no cache layout, no SIMD.

import BatonTesting
import Foundation

struct ReferenceLlama {
    let tiny: TinyLlama

    /// Logits after each token of `tokens` (positions 0..<n).
    func logits(_ tokens: [Int32]) -> [[Double]] {
        let d = tiny.hidden, hd = tiny.hidden / tiny.heads, kvDim = hd * tiny.kvHeads, ffn = tiny.ffn
        let group = tiny.heads / tiny.kvHeads
        let w = tiny.weights.mapValues { $0.map(Double.init) }
        func matvec(_ name: String, _ x: [Double], rows: Int) -> [Double] {
            let m = w[name]!, cols = x.count
            return (0..<rows).map { r in (0..<cols).reduce(0.0) { $0 + m[r * cols + $1] * x[$1] } }
        }
        func norm(_ x: [Double], _ name: String) -> [Double] {
            let ms = x.map { $0 * $0 }.reduce(0, +) / Double(x.count)
            let s = 1 / (ms + Double(tiny.eps)).squareRoot()
            return x.indices.map { x[$0] * s * w[name]![$0] }
        }
        func rope(_ v: inout [Double], heads: Int, pos: Int) {
            for h in 0..<heads {
                for i in 0..<(hd / 2) {
                    let theta = Double(pos) * pow(Double(tiny.ropeTheta), -2 * Double(i) / Double(hd))
                    let a = v[h * hd + 2 * i], b = v[h * hd + 2 * i + 1]
                    v[h * hd + 2 * i] = a * cos(theta) - b * sin(theta)
                    v[h * hd + 2 * i + 1] = a * sin(theta) + b * cos(theta)
                }
            }
        }
        var keys = [[[Double]]](repeating: [], count: tiny.layers)
        var values = [[[Double]]](repeating: [], count: tiny.layers)
        var result: [[Double]] = []
        for (pos, token) in tokens.enumerated() {
            var x = Array(w["token_embd.weight"]![(Int(token) * d)..<(Int(token) * d + d)])
            for l in 0..<tiny.layers {
                let p = "blk.\(l)."
                let h = norm(x, p + "attn_norm.weight")
                var q = matvec(p + "attn_q.weight", h, rows: d)
                var k = matvec(p + "attn_k.weight", h, rows: kvDim)
                let v = matvec(p + "attn_v.weight", h, rows: kvDim)
                rope(&q, heads: tiny.heads, pos: pos)
                rope(&k, heads: tiny.kvHeads, pos: pos)
                keys[l].append(k)
                values[l].append(v)
                var att = [Double](repeating: 0, count: d)
                for head in 0..<tiny.heads {
                    let g = head / group
                    let scores = (0...pos).map { t in
                        (0..<hd).reduce(0.0) { $0 + q[head * hd + $1] * keys[l][t][g * hd + $1] } / Double(hd).squareRoot()
                    }
                    let m = scores.max()!
                    let e = scores.map { exp($0 - m) }
                    let total = e.reduce(0, +)
                    for c in 0..<hd {
                        att[head * hd + c] = (0...pos).reduce(0.0) { $0 + e[$1] / total * values[l][$1][g * hd + c] }
                    }
                }
                let o = matvec(p + "attn_output.weight", att, rows: d)
                for i in 0..<d { x[i] += o[i] }
                let h2 = norm(x, p + "ffn_norm.weight")
                let gate = matvec(p + "ffn_gate.weight", h2, rows: ffn)
                let up = matvec(p + "ffn_up.weight", h2, rows: ffn)
                let act = (0..<ffn).map { gate[$0] / (1 + exp(-gate[$0])) * up[$0] }
                let down = matvec(p + "ffn_down.weight", act, rows: d)
                for i in 0..<d { x[i] += down[i] }
            }
            let out = norm(x, "output_norm.weight")
            result.append(matvec("token_embd.weight", out, rows: tiny.vocabSize))
        }
        return result
    }
}
