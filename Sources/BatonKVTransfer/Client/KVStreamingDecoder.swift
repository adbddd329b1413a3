// The consumer's side of a connection, on the event loop: frames are cut from the byte stream,
// but a DATA frame's payload — megabytes per layer — is never gathered into one buffer. Each
// piece is handed on (`KVReply.chunk`) as it arrives, straight from the socket's read buffer,
// so the bytes are copied once, into the KV cache. Before the handshake completes, frames pass
// on to the connection's async reader; afterwards they go to `route`'s sink.
//
// Limits are those of `KVFrameDecoder`: a bad length or type is refused from the header.

import NIOCore
import Synchronization

/// A reply as the consumer's requests see it.
enum KVReply: Sendable {
    case frame(KVFrame)
    /// Bytes `offset ..< offset + bytes.readableBytes` of DATA(`seq`, `layer`)'s `total`-byte payload.
    case chunk(seq: UInt32, layer: UInt16, offset: Int, total: Int, bytes: ByteBuffer)
    case failure(Error)

    var seq: UInt32? {
        switch self {
        case .frame(let f): f.seq
        case .chunk(let seq, _, _, _, _): seq
        case .failure: nil
        }
    }
}

final class KVStreamingDecoder: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = KVFrame
    typealias Sink = @Sendable (KVReply) throws -> Void

    private let state: Mutex<State>

    private struct State: @unchecked Sendable {
        var decoder: KVFrameDecoder
        /// Bytes of a header or control frame that came in pieces.
        var pending: ByteBuffer?
        /// Inside a DATA payload.
        var data: (seq: UInt32, layer: UInt16, total: Int, offset: Int)?
        var sink: Sink?
    }

    init(maxFrameLength: Int = 64 << 20) {
        state = Mutex(State(decoder: KVFrameDecoder(maxFrameLength: maxFrameLength)))
    }

    /// From now on, everything goes to `sink` (called on the event loop).
    func route(to sink: @escaping Sink) { state.withLock { $0.sink = sink } }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var input = unwrapInboundIn(data)
        do {
            var toForward: [KVFrame] = []
            try state.withLock { s in try Self.process(&input, state: &s) { toForward.append($0) } }
            for frame in toForward { context.fireChannelRead(wrapInboundOut(frame)) }
        } catch {
            context.fireErrorCaught(error)
            context.close(promise: nil)
        }
    }

    /// Consumes `input`; frames with no sink yet go to `forward`.
    private static func process(_ input: inout ByteBuffer, state s: inout State, forward: (KVFrame) -> Void) throws {
        while true {
            if let d = s.data {
                guard input.readableBytes > 0 || d.total == 0 else { return }
                let n = min(input.readableBytes, d.total - d.offset)
                let bytes = input.readSlice(length: n)!
                guard let sink = s.sink else {
                    throw KVTransferError.protocolViolation("DATA before the handshake completed")
                }
                try sink(.chunk(seq: d.seq, layer: d.layer, offset: d.offset, total: d.total, bytes: bytes))
                s.data = d.offset + n == d.total ? nil : (d.seq, d.layer, d.total, d.offset + n)
                continue
            }
            if var pending = s.pending {
                // Top up only to what the next decision needs: never a payload's worth.
                let want = try required(pending, decoder: s.decoder)
                if pending.readableBytes < want {
                    var piece = input.readSlice(length: min(want - pending.readableBytes, input.readableBytes))!
                    pending.writeBuffer(&piece)
                    s.pending = pending
                    if pending.readableBytes < want { return }
                    continue
                }
                s.pending = nil
                try decide(&pending, state: &s, forward: forward)
                continue
            }
            guard input.readableBytes > 0 else { return }
            let want = try required(input, decoder: s.decoder)
            guard input.readableBytes >= want else {
                s.pending = input.readSlice(length: input.readableBytes)
                return
            }
            try decide(&input, state: &s, forward: forward)
        }
    }

    /// Bytes needed at the front of `buffer` to act: the length and type first, then a DATA
    /// header, or a whole control frame (checked against the decoder's limits).
    private static func required(_ buffer: ByteBuffer, decoder: KVFrameDecoder) throws -> Int {
        guard buffer.readableBytes >= 5 else {
            if buffer.readableBytes >= 4 { _ = try checkedLength(buffer, decoder: decoder) }
            return 5
        }
        let length = try checkedLength(buffer, decoder: decoder)
        let type = buffer.getInteger(at: buffer.readerIndex + 4, as: UInt8.self)!
        guard type == 6 else {
            // Control frames: the decoder judges type and size now, without waiting.
            var probe = buffer.getSlice(at: buffer.readerIndex, length: 5)!
            var d = decoder
            _ = try d.decode(buffer: &probe)
            return 4 + length
        }
        guard length >= 7 else { throw KVFrameError.malformed(type: 6, "DATA frame of \(length) bytes has no room for its header") }
        return KVFrame.dataHeaderLength
    }

    private static func checkedLength(_ buffer: ByteBuffer, decoder: KVFrameDecoder) throws -> Int {
        let length = Int(buffer.getInteger(at: buffer.readerIndex, as: UInt32.self)!)
        guard length > 0 else { throw KVFrameError.emptyFrame }
        guard length <= decoder.maxFrameLength else { throw KVFrameError.oversized(length: length, limit: decoder.maxFrameLength) }
        return length
    }

    private static func decide(_ buffer: inout ByteBuffer, state s: inout State, forward: (KVFrame) -> Void) throws {
        let length = Int(buffer.getInteger(at: buffer.readerIndex, as: UInt32.self)!)
        if buffer.getInteger(at: buffer.readerIndex + 4, as: UInt8.self) == 6 {
            buffer.moveReaderIndex(forwardBy: 5)
            let seq = buffer.readInteger(as: UInt32.self)!
            let layer = buffer.readInteger(as: UInt16.self)!
            s.data = (seq, layer, length - 7, 0)
            return
        }
        guard let frame = try s.decoder.decode(buffer: &buffer) else {
            preconditionFailure("a whole control frame did not decode")
        }
        if let sink = s.sink { try sink(.frame(frame)) } else { forward(frame) }
    }
}
