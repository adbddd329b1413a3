// Everything that can be wrong with a GGUF file, each case saying what and where.

/// A GGUF file that cannot be used; the description says what is wrong with it.
public enum GGUFError: Error, CustomStringConvertible, Equatable {
    case cannotOpen(path: String, reason: String)
    case badMagic(found: UInt32)
    case unsupportedVersion(UInt32)
    case truncated(what: String, offset: Int, needed: Int, fileSize: Int)
    case absurdCount(what: String, count: UInt64, limit: UInt64)
    case badValueType(key: String, type: UInt32)
    case invalidUTF8(what: String, offset: Int)
    case nestingTooDeep(key: String)
    case duplicateKey(String)
    case duplicateTensor(String)
    case unsupportedTensorType(tensor: String, type: UInt32, name: String)
    case badTensorShape(tensor: String, reason: String)
    case tensorOutOfBounds(tensor: String, offset: UInt64, size: UInt64, dataSize: UInt64)
    case misalignedTensor(tensor: String, offset: UInt64, alignment: Int)
    case badAlignment(UInt64)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason):
            "cannot open GGUF file \(path): \(reason)"
        case .badMagic(let found):
            "not a GGUF file: magic is 0x\(String(found, radix: 16)), expected 0x46554747 (\"GGUF\")"
        case .unsupportedVersion(let v):
            "unsupported GGUF version \(v) (supported: 2, 3)"
        case .truncated(let what, let offset, let needed, let size):
            "GGUF file is truncated: \(what) needs \(needed) bytes at offset \(offset), file has \(size)"
        case .absurdCount(let what, let count, let limit):
            "GGUF file is corrupt: \(what) is \(count), more than the file can hold (\(limit))"
        case .badValueType(let key, let type):
            "GGUF metadata key '\(key)' has unknown value type \(type)"
        case .invalidUTF8(let what, let offset):
            "GGUF file has invalid UTF-8 in \(what) at offset \(offset)"
        case .nestingTooDeep(let key):
            "GGUF metadata key '\(key)' nests arrays too deeply"
        case .duplicateKey(let key):
            "GGUF metadata key '\(key)' appears twice"
        case .duplicateTensor(let name):
            "GGUF tensor '\(name)' appears twice"
        case .unsupportedTensorType(let tensor, let type, let name):
            "tensor '\(tensor)' has type \(name) (\(type)); supported: F32, F16, Q8_0, Q4_0, Q4_1"
        case .badTensorShape(let tensor, let reason):
            "tensor '\(tensor)' has a bad shape: \(reason)"
        case .tensorOutOfBounds(let tensor, let offset, let size, let dataSize):
            "tensor '\(tensor)' lies outside the file: offset \(offset) + size \(size) > data size \(dataSize)"
        case .misalignedTensor(let tensor, let offset, let alignment):
            "tensor '\(tensor)' offset \(offset) is not a multiple of the alignment \(alignment)"
        case .badAlignment(let a):
            "GGUF general.alignment \(a) is not a power of two in 1...65536"
        }
    }
}

/// ggml's names for tensor types, for error messages about types Baton does not read.
func ggmlTypeName(_ raw: UInt32) -> String {
    let names: [UInt32: String] = [
        0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 9: "Q8_1",
        10: "Q2_K", 11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K", 16: "IQ2_XXS",
        17: "IQ2_XS", 18: "IQ3_XXS", 19: "IQ1_S", 20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S",
        23: "IQ4_XS", 24: "I8", 25: "I16", 26: "I32", 27: "I64", 28: "F64", 29: "IQ1_M",
        30: "BF16", 34: "TQ1_0", 35: "TQ2_0", 39: "MXFP4",
    ]
    return names[raw] ?? "unknown"
}
