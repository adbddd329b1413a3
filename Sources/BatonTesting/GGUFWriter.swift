// Writes GGUF files, for tests that need a model without downloading one: tiny random Llamas,
// and deliberately broken files for the reader's error paths.

import BatonKernels

/// A metadata value to write.
public enum GGUFWriteValue {
    case u32(UInt32), i32(Int32), u64(UInt64), f32(Float), bool(Bool), string(String)
    case strings([String]), i32s([Int32]), f32s([Float])
}

/// Builds a GGUF v3 file in memory.
public struct GGUFWriter {
    public var metadata: [(String, GGUFWriteValue)] = []
    public var tensors: [(name: String, shape: [Int], type: QuantType, data: [UInt8])] = []
    public var alignment = 32

    public init() {}

    public mutating func add(_ key: String, _ value: GGUFWriteValue) { metadata.append((key, value)) }

    /// Adds a tensor from f32 values, quantising to `type`; returns the values the file now
    /// holds (dequantised), for reference computations.
    @discardableResult
    public mutating func addTensor(_ name: String, shape: [Int], values: [Float], type: QuantType) -> [Float] {
        let (bytes, stored) = Quantize.encode(values, rowLength: shape[0], type: type)
        tensors.append((name, shape, type, bytes))
        return stored
    }

    /// The file's bytes.
    public func bytes() -> [UInt8] {
        var out: [UInt8] = []
        out.append(contentsOf: Array("GGUF".utf8))
        out.append(le: UInt32(3))
        out.append(le: UInt64(tensors.count))
        out.append(le: UInt64(metadata.count))
        for (key, value) in metadata {
            out.append(string: key)
            switch value {
            case .u32(let v): out.append(le: UInt32(4)); out.append(le: v)
            case .i32(let v): out.append(le: UInt32(5)); out.append(le: UInt32(bitPattern: v))
            case .u64(let v): out.append(le: UInt32(10)); out.append(le: v)
            case .f32(let v): out.append(le: UInt32(6)); out.append(le: v.bitPattern)
            case .bool(let v): out.append(le: UInt32(7)); out.append(v ? 1 : 0)
            case .string(let v): out.append(le: UInt32(8)); out.append(string: v)
            case .strings(let vs):
                out.append(le: UInt32(9)); out.append(le: UInt32(8)); out.append(le: UInt64(vs.count))
                for v in vs { out.append(string: v) }
            case .i32s(let vs):
                out.append(le: UInt32(9)); out.append(le: UInt32(5)); out.append(le: UInt64(vs.count))
                for v in vs { out.append(le: UInt32(bitPattern: v)) }
            case .f32s(let vs):
                out.append(le: UInt32(9)); out.append(le: UInt32(6)); out.append(le: UInt64(vs.count))
                for v in vs { out.append(le: v.bitPattern) }
            }
        }
        var offset = 0
        var offsets: [Int] = []
        for t in tensors {
            offsets.append(offset)
            offset += (t.data.count + alignment - 1) / alignment * alignment
        }
        for (t, o) in zip(tensors, offsets) {
            out.append(string: t.name)
            out.append(le: UInt32(t.shape.count))
            for d in t.shape { out.append(le: UInt64(d)) }
            out.append(le: t.type.rawValue)
            out.append(le: UInt64(o))
        }
        while out.count % alignment != 0 { out.append(0) }
        for t in tensors {
            out.append(contentsOf: t.data)
            while out.count % alignment != 0 { out.append(0) }
        }
        return out
    }
}

extension [UInt8] {
    mutating func append<T: FixedWidthInteger>(le value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    mutating func append(string: String) {
        append(le: UInt64(string.utf8.count))
        append(contentsOf: Array(string.utf8))
    }
}

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
