// Reading KV transfer frames from a byte stream: length checks before any byte is waited for,
// then a field-by-field parse of the payload that must consume it exactly.

import NIOCore

/// Splits a byte stream into `KVFrame`s; a `ByteToMessageDecoder` (through
/// `NIOSingleStepByteToMessageDecoder`, so it also works in a `NIOSingleStepByteToMessageProcessor`).
///
/// The length header is judged as soon as it arrives: 0 or above `maxFrameLength` throws after
/// 4 bytes, an unknown type or a control frame (any type but DATA) above
/// `KVFrame.maxControlFrameLength` throws after 5, so a hostile peer can never make the
/// decoder wait for (and buffer) more than one allowed frame. Every error is a `KVFrameError`.
public struct KVFrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = KVFrame

    /// Longest frame accepted, DATA included; the length header counts the type byte and payload.
    public let maxFrameLength: Int

    /// - Parameter maxFrameLength: longest frame accepted (default 64 MiB, enough for one layer
    ///   of a long prompt's blocks); control frames are further held to `KVFrame.maxControlFrameLength`.
    public init(maxFrameLength: Int = 64 << 20) {
        precondition(maxFrameLength > 0, "maxFrameLength must be positive")
        self.maxFrameLength = maxFrameLength
    }

    public mutating func decode(buffer: inout ByteBuffer) throws(KVFrameError) -> KVFrame? {
        let start = buffer.readerIndex
        guard let length = buffer.getInteger(at: start, as: UInt32.self).map(Int.init) else { return nil }
        guard length > 0 else { throw .emptyFrame }
        guard length <= self.maxFrameLength else { throw .oversized(length: length, limit: self.maxFrameLength) }
        guard let typeByte = buffer.getInteger(at: start + 4, as: UInt8.self) else { return nil }
        guard let type = KVFrameType(rawValue: typeByte) else { throw .unknownType(typeByte) }
        let limit = type == .data ? self.maxFrameLength : min(self.maxFrameLength, KVFrame.maxControlFrameLength)
        guard length <= limit else { throw .oversized(length: length, limit: limit) }
        guard buffer.readableBytes >= 4 + length else { return nil }

        buffer.moveReaderIndex(forwardBy: 5)
        var payload = PayloadReader(type: type, buffer: buffer.readSlice(length: length - 1)!)
        return try payload.frame()
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws(KVFrameError) -> KVFrame? {
        try self.decode(buffer: &buffer)
    }
}

/// Reads one frame's payload; every read is bounded by the payload, never by a length it contains.
private struct PayloadReader {
    let type: KVFrameType
    var buffer: ByteBuffer

    mutating func frame() throws(KVFrameError) -> KVFrame {
        let frame: KVFrame
        switch self.type {
        case .challenge:
            frame = .challenge(
                version: try self.u16("version"), nonce: try self.fixed("nonce"), engineId: try self.string("engineId"))
        case .hello:
            frame = .hello(
                version: try self.u16("version"), engineId: try self.string("engineId"),
                compatibility: try self.fixed("compatibility"), mac: try self.fixed("mac"))
        case .welcome:
            frame = .welcome(mac: try self.fixed("mac"))
        case .refuse:
            frame = .refuse(reason: try self.string("reason"))
        case .read:
            frame = .read(seq: try self.u32("seq"), requestId: try self.string("requestId"), blockIds: try self.blockIds())
        case .data:
            frame = .data(seq: try self.u32("seq"), layer: try self.u16("layer"), payload: self.rest())
        case .end:
            frame = .end(seq: try self.u32("seq"))
        case .done:
            frame = .done(seq: try self.u32("seq"), requestId: try self.string("requestId"))
        case .heartbeat:
            frame = .heartbeat(seq: try self.u32("seq"), requestId: try self.string("requestId"))
        case .ok:
            frame = .ok(seq: try self.u32("seq"))
        case .error:
            frame = .error(seq: try self.u32("seq"), reason: try self.string("reason"))
        }
        guard self.buffer.readableBytes == 0 else {
            throw self.malformed("trailing bytes after the last field: \(self.buffer.readableBytes)")
        }
        return frame
    }

    private func malformed(_ reason: String) -> KVFrameError {
        .malformed(type: self.type.rawValue, reason)
    }

    private func need(_ count: Int, for field: String) throws(KVFrameError) {
        guard self.buffer.readableBytes >= count else {
            throw self.malformed("truncated \(field): needs \(count) bytes, \(self.buffer.readableBytes) left")
        }
    }

    private mutating func u16(_ field: String) throws(KVFrameError) -> UInt16 {
        try self.need(2, for: field)
        return self.buffer.readInteger(as: UInt16.self)!
    }

    private mutating func u32(_ field: String) throws(KVFrameError) -> UInt32 {
        try self.need(4, for: field)
        return self.buffer.readInteger(as: UInt32.self)!
    }

    private mutating func fixed(_ field: String) throws(KVFrameError) -> [UInt8] {
        try self.need(KVFrame.fixedFieldBytes, for: field)
        return self.buffer.readBytes(length: KVFrame.fixedFieldBytes)!
    }

    private mutating func string(_ field: String) throws(KVFrameError) -> String {
        let count = Int(try self.u16(field))
        guard count <= KVFrame.maxStringBytes else {
            throw self.malformed("\(field) is \(count) bytes, limit \(KVFrame.maxStringBytes)")
        }
        try self.need(count, for: field)
        do {
            return try self.buffer.readUTF8ValidatedString(length: count)!
        } catch {
            throw self.malformed("\(field) is not valid UTF-8")
        }
    }

    private mutating func blockIds() throws(KVFrameError) -> [UInt32] {
        let count = Int(try self.u32("blockIds count"))
        guard count <= KVFrame.maxBlockIds else {
            throw self.malformed("\(count) block ids, limit \(KVFrame.maxBlockIds)")
        }
        guard self.buffer.readableBytes == count * 4 else {
            throw self.malformed("\(count) block ids need \(count * 4) bytes, frame has \(self.buffer.readableBytes)")
        }
        var ids: [UInt32] = []  // (count), bounded by the bytes already checked
        ids.reserveCapacity(count)
        for _ in 0..<count { ids.append(self.buffer.readInteger(as: UInt32.self)!) }
        return ids
    }

    private mutating func rest() -> ByteBuffer {
        self.buffer.readSlice(length: self.buffer.readableBytes)!
    }
}
