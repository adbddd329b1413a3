// Weight storage formats the kernels read, with ggml's block layouts (little-endian, packed):
//
//   F32   4 B per value
//   F16   2 B per value (IEEE half)
//   Q4_0  18 B per 32 values: d: f16, qs: 16 × u8      value = (nibble - 8) · d
//   Q4_1  20 B per 32 values: d: f16, m: f16, qs: 16 B  value = nibble · d + m
//   Q8_0  34 B per 32 values: d: f16, qs: 32 × i8       value = q · d
//
// In a Q4 block byte j holds value j in its low nibble and value j + 16 in its high nibble.

/// A tensor element format, with ggml's type ids as raw values.
public enum QuantType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case f32 = 0
    case f16 = 1
    case q4_0 = 2
    case q4_1 = 3
    case q8_0 = 8

    /// Values per block (1 for unquantised types).
    public var blockSize: Int {
        switch self {
        case .f32, .f16: 1
        case .q4_0, .q4_1, .q8_0: 32
        }
    }

    /// Bytes per block.
    public var blockBytes: Int {
        switch self {
        case .f32: 4
        case .f16: 2
        case .q4_0: 18
        case .q4_1: 20
        case .q8_0: 34
        }
    }

    /// Bytes for a row of `count` values; `count` must be a multiple of `blockSize`.
    public func rowBytes(_ count: Int) -> Int { count / blockSize * blockBytes }

    public var description: String {
        switch self {
        case .f32: "F32"
        case .f16: "F16"
        case .q4_0: "Q4_0"
        case .q4_1: "Q4_1"
        case .q8_0: "Q8_0"
        }
    }
}

@inline(__always)
@usableFromInline
func halfToFloat(_ raw: UnsafeRawPointer, _ offset: Int) -> Float {
    Float(Float16(bitPattern: raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
}
