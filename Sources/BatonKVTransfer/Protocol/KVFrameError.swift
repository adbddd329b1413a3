// Why a KV transfer frame was refused, on reading (KVFrameDecoder) or before writing (KVFrame.validate).

/// A frame that breaks the KV transfer protocol. Whoever sees one closes that connection.
public enum KVFrameError: Error, Equatable, CustomStringConvertible {
    /// The length header is 0: a frame holds at least its type byte.
    case emptyFrame
    /// The length header is above the limit for the frame's type; thrown before the bytes arrive.
    case oversized(length: Int, limit: Int)
    /// The type byte is not one of KVFrame's.
    case unknownType(UInt8)
    /// A field is truncated, too long, not UTF-8, miscounted, or bytes are left over.
    case malformed(type: UInt8, String)

    public var description: String {
        switch self {
        case .emptyFrame:
            "KV frame of length 0 (a frame holds at least its type byte)"
        case .oversized(let length, let limit):
            "KV frame of \(length) bytes is over the limit of \(limit)"
        case .unknownType(let type):
            "KV frame of unknown type \(type)"
        case .malformed(let type, let reason):
            "malformed \(KVFrameType(rawValue: type)?.name ?? "unknown") frame (type \(type)): \(reason)"
        }
    }
}
