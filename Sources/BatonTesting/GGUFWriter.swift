// Writes GGUF files, for tests that need a model without downloading one: tiny random Llamas,
// and deliberately broken files for the reader's error paths.

import BatonKernels

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
