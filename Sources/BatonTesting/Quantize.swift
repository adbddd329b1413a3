// ggml's reference quantisers, written plainly, for tests that write quantised GGUF weights.

import BatonKernels

/// ggml's reference quantisers, written plainly.
public enum Quantize {
    /// Encodes rows of `rowLength` values; returns the bytes and the values they decode to.
    public static func encode(_ values: [Float], rowLength: Int, type: QuantType) -> ([UInt8], [Float]) {
        var bytes: [UInt8] = []
        var stored: [Float] = []
        switch type {
        case .f32:
            for v in values { bytes.append(le: v.bitPattern) }
            stored = values
        case .f16:
            for v in values {
                let h = Float16(v)
                bytes.append(le: h.bitPattern)
                stored.append(Float(h))
            }
        case .q8_0, .q4_0, .q4_1:
            precondition(values.count % 32 == 0)
            for b in 0..<(values.count / 32) {
                let block = Array(values[(b * 32)..<(b * 32 + 32)])
                let (bb, dec) = encodeBlock(block, type)
                bytes += bb
                stored += dec
            }
        }
        return (bytes, stored)
    }

    static func encodeBlock(_ x: [Float], _ type: QuantType) -> ([UInt8], [Float]) {
        var out: [UInt8] = []
        var dec = [Float](repeating: 0, count: 32)
        switch type {
        case .q8_0:
            let amax = x.map(abs).max()!
            let d = Float16(amax / 127)
            let id: Float = amax > 0 ? 127 / amax : 0
            out.append(le: d.bitPattern)
            for i in 0..<32 {
                let q = Int8((x[i] * id).rounded())
                out.append(UInt8(bitPattern: q))
                dec[i] = Float(q) * Float(d)
            }
        case .q4_0:
            var maxValue: Float = 0
            for v in x where abs(v) > abs(maxValue) { maxValue = v }
            let dFull = maxValue / -8
            let id: Float = dFull != 0 ? 1 / dFull : 0
            let d = Float16(dFull)
            out.append(le: d.bitPattern)
            var qs = [UInt8](repeating: 0, count: 16)
            for j in 0..<16 {
                let q0 = UInt8(Swift.min(15, Int8(x[j] * id + 8.5)))
                let q1 = UInt8(Swift.min(15, Int8(x[j + 16] * id + 8.5)))
                qs[j] = q0 | (q1 << 4)
                dec[j] = (Float(q0) - 8) * Float(d)
                dec[j + 16] = (Float(q1) - 8) * Float(d)
            }
            out += qs
        case .q4_1:
            let lo = x.min()!, hi = x.max()!
            let dFull = (hi - lo) / 15
            let id: Float = dFull != 0 ? 1 / dFull : 0
            let d = Float16(dFull), m = Float16(lo)
            out.append(le: d.bitPattern)
            out.append(le: m.bitPattern)
            var qs = [UInt8](repeating: 0, count: 16)
            for j in 0..<16 {
                let q0 = UInt8(Swift.min(15, Int8((x[j] - lo) * id + 0.5)))
                let q1 = UInt8(Swift.min(15, Int8((x[j + 16] - lo) * id + 0.5)))
                qs[j] = q0 | (q1 << 4)
                dec[j] = Float(q0) * Float(d) + Float(m)
                dec[j + 16] = Float(q1) * Float(d) + Float(m)
            }
            out += qs
        default:
            fatalError("not a block type")
        }
        return (out, dec)
    }
}
