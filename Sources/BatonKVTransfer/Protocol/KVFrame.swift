// The KV transfer protocol's frames: what each one carries, its limits, and how it is written.
// Reading them back is KVFrameDecoder's job; the handshake's MACs are KVAuth's.

import NIOCore

/// One frame of Baton's engine-to-engine KV transfer protocol.
///
/// On the wire a frame is a length, a type byte and the payload; `length` counts the type byte
/// and the payload, never itself. Payload fields follow each case's order; integers are
/// big-endian, a `String` is a `UInt16` byte count then UTF-8, the 32-byte fields (nonce,
/// compatibility, MACs) are raw bytes, and `blockIds` is a `UInt32` count then that many `UInt32`s.
///
///     0        4      5                                         4 + length
///     +--------+------+-------------------------------------------+
///     | length | type | payload: length - 1 bytes, all consumed   |
///     | UInt32 | UInt8|                                           |
///     +--------+------+-------------------------------------------+
///
///     READ(seq: 7, requestId: "r1", blockIds: [1, 258]):
///     00 00 00 15 | 05 | 00 00 00 07 | 00 02 72 31 | 00 00 00 02 | 00 00 00 01 | 00 00 01 02
///
/// One connection carries the handshake, then any number of requests, each tagged with a `seq`
/// the client picks and every reply echoes:
///
///     client                                      server
///       | ------------- connect ----------------> |
///       | <------------ CHALLENGE(v, nonce, id) - |
///       | -- HELLO(v, id, compatibility, mac) --> |
///       | <------------ WELCOME(mac) ------------ |  or REFUSE(reason), then close
///       | -- READ(seq, requestId, blockIds) ----> |
///       | <------------ DATA(seq, layer 0, kv) -- |  one per layer, layer-major
///       | <------------ ...                       |
///       | <------------ END(seq) ---------------- |  or ERROR(seq, reason)
///       | -- DONE(seq, requestId) --------------> |  the blocks may be freed
///       | <------------ OK(seq) ----------------- |
///       | -- HEARTBEAT(seq, requestId) ---------> |  keep holding the blocks
///       | <------------ OK(seq) or ERROR(seq, _) -|
///
/// A malformed frame closes its connection and nothing else (see `KVFrameError`).
public enum KVFrame: Sendable, Equatable {
    /// Type 1, server to client on accept. `nonce` is 32 bytes.
    case challenge(version: UInt16, nonce: [UInt8], engineId: String)
    /// Type 2, client to server. `compatibility` is `KVCompatibility.digest`; `mac` is `KVAuth.clientMAC`.
    case hello(version: UInt16, engineId: String, compatibility: [UInt8], mac: [UInt8])
    /// Type 3, server to client: the client is accepted. `mac` is `KVAuth.serverMAC`.
    case welcome(mac: [UInt8])
    /// Type 4, either way; the sender closes the connection after it.
    case refuse(reason: String)
    /// Type 5: ask for a finished prefill's blocks.
    case read(seq: UInt32, requestId: String, blockIds: [UInt32])
    /// Type 6: one layer's KV for the blocks of READ `seq`; `payload` is the rest of the frame.
    case data(seq: UInt32, layer: UInt16, payload: ByteBuffer)
    /// Type 7: every layer of READ `seq` has been sent.
    case end(seq: UInt32)
    /// Type 8: the client has the blocks; the server may free them.
    case done(seq: UInt32, requestId: String)
    /// Type 9: the client still wants the blocks; the server keeps holding them.
    case heartbeat(seq: UInt32, requestId: String)
    /// Type 10: DONE or HEARTBEAT `seq` succeeded.
    case ok(seq: UInt32)
    /// Type 11: request `seq` failed; the connection stays open.
    case error(seq: UInt32, reason: String)

    /// Longest `String` field, in UTF-8 bytes.
    public static let maxStringBytes = 1024
    /// Most block ids one READ may name.
    public static let maxBlockIds = 65_536
    /// Longest frame (type byte and payload) of any type but DATA; the largest valid READ fits.
    public static let maxControlFrameLength = 300_000
    /// Size of every fixed field: nonce, compatibility digest and MACs.
    public static let fixedFieldBytes = 32
    /// Bytes before a DATA frame's payload: length, type, seq, layer.
    public static let dataHeaderLength = 11
}

/// Frame type bytes.
enum KVFrameType: UInt8 {
    case challenge = 1, hello, welcome, refuse, read, data, end, done, heartbeat, ok, error

    var name: String { "\(self)".uppercased() }
}

extension KVFrame {
    var type: KVFrameType {
        switch self {
        case .challenge: .challenge
        case .hello: .hello
        case .welcome: .welcome
        case .refuse: .refuse
        case .read: .read
        case .data: .data
        case .end: .end
        case .done: .done
        case .heartbeat: .heartbeat
        case .ok: .ok
        case .error: .error
        }
    }

    /// Throws if the peer's decoder would refuse this frame: a `String` over `maxStringBytes`,
    /// a fixed field not 32 bytes, more than `maxBlockIds` ids, or a DATA payload too long to count.
    /// Check frames built from outside input (request ids, reasons) before `write(to:)`.
    public func validate() throws(KVFrameError) {
        let type = self.type.rawValue
        func string(_ field: String, _ value: String) throws(KVFrameError) {
            guard value.utf8.count <= Self.maxStringBytes else {
                throw .malformed(type: type, "\(field) is \(value.utf8.count) bytes, limit \(Self.maxStringBytes)")
            }
        }
        func fixed(_ field: String, _ value: [UInt8]) throws(KVFrameError) {
            guard value.count == Self.fixedFieldBytes else {
                throw .malformed(type: type, "\(field) is \(value.count) bytes, must be \(Self.fixedFieldBytes)")
            }
        }
        switch self {
        case .challenge(_, let nonce, let engineId):
            try fixed("nonce", nonce)
            try string("engineId", engineId)
        case .hello(_, let engineId, let compatibility, let mac):
            try string("engineId", engineId)
            try fixed("compatibility", compatibility)
            try fixed("mac", mac)
        case .welcome(let mac):
            try fixed("mac", mac)
        case .refuse(let reason), .error(_, let reason):
            try string("reason", reason)
        case .read(_, let requestId, let blockIds):
            try string("requestId", requestId)
            guard blockIds.count <= Self.maxBlockIds else {
                throw .malformed(type: type, "\(blockIds.count) block ids, limit \(Self.maxBlockIds)")
            }
        case .data(_, _, let payload):
            let length = Self.dataHeaderLength - 4 + payload.readableBytes
            guard length <= UInt32.max else { throw .oversized(length: length, limit: Int(UInt32.max)) }
        case .done(_, let requestId), .heartbeat(_, let requestId):
            try string("requestId", requestId)
        case .end, .ok:
            break
        }
    }

    /// Writes the whole frame: length, type, payload.
    ///
    /// - Precondition: `validate()` does not throw. Frames built from outside input must be
    ///   validated first (`KVFrameEncoder` does so and throws instead).
    public func write(to buffer: inout ByteBuffer) {
        do { try self.validate() } catch { preconditionFailure("invalid KV frame: \(error)") }
        if case .data(let seq, let layer, let payload) = self {
            Self.writeDataHeader(seq: seq, layer: layer, payloadLength: payload.readableBytes, to: &buffer)
            buffer.writeImmutableBuffer(payload)
            return
        }
        let lengthIndex = buffer.writerIndex
        buffer.writeInteger(UInt32(0))  // patched below
        buffer.writeInteger(self.type.rawValue)
        self.writePayload(to: &buffer)
        buffer.setInteger(UInt32(buffer.writerIndex - lengthIndex - 4), at: lengthIndex)
    }

    /// Writes only the 11-byte header of a DATA frame whose payload the caller sends next, so a
    /// layer's KV goes out without being copied into the frame:
    ///
    ///     KVFrame.writeDataHeader(seq: seq, layer: layer, payloadLength: kv.readableBytes, to: &header)
    ///     channel.write(header); channel.write(kv)
    public static func writeDataHeader(seq: UInt32, layer: UInt16, payloadLength: Int, to buffer: inout ByteBuffer) {
        let length = Self.dataHeaderLength - 4 + payloadLength
        precondition(payloadLength >= 0 && length <= UInt32.max, "DATA payload of \(payloadLength) bytes")
        buffer.writeInteger(UInt32(length))
        buffer.writeInteger(KVFrameType.data.rawValue)
        buffer.writeInteger(seq)
        buffer.writeInteger(layer)
    }

    private func writePayload(to buffer: inout ByteBuffer) {
        switch self {
        case .challenge(let version, let nonce, let engineId):
            buffer.writeInteger(version)
            buffer.writeBytes(nonce)
            buffer.writeKVString(engineId)
        case .hello(let version, let engineId, let compatibility, let mac):
            buffer.writeInteger(version)
            buffer.writeKVString(engineId)
            buffer.writeBytes(compatibility)
            buffer.writeBytes(mac)
        case .welcome(let mac):
            buffer.writeBytes(mac)
        case .refuse(let reason):
            buffer.writeKVString(reason)
        case .read(let seq, let requestId, let blockIds):
            buffer.writeInteger(seq)
            buffer.writeKVString(requestId)
            buffer.writeInteger(UInt32(blockIds.count))
            for id in blockIds { buffer.writeInteger(id) }
        case .data(let seq, let layer, let payload):
            buffer.writeInteger(seq)
            buffer.writeInteger(layer)
            buffer.writeImmutableBuffer(payload)
        case .end(let seq), .ok(let seq):
            buffer.writeInteger(seq)
        case .done(let seq, let requestId), .heartbeat(let seq, let requestId):
            buffer.writeInteger(seq)
            buffer.writeKVString(requestId)
        case .error(let seq, let reason):
            buffer.writeInteger(seq)
            buffer.writeKVString(reason)
        }
    }
}

extension ByteBuffer {
    fileprivate mutating func writeKVString(_ string: String) {
        self.writeInteger(UInt16(string.utf8.count))
        self.writeString(string)
    }
}
