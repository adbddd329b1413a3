// Writing KV transfer frames into a channel pipeline.

import NIOCore

/// Writes `KVFrame`s; an invalid frame (see `KVFrame.validate()`) fails the write with a
/// `KVFrameError` instead of reaching the peer. DATA payloads are copied into the frame: a sender
/// that wants them uncopied writes `KVFrame.writeDataHeader` and the payload itself.
public struct KVFrameEncoder: MessageToByteEncoder, Sendable {
    public typealias OutboundIn = KVFrame

    public init() {}

    public func encode(data: KVFrame, out: inout ByteBuffer) throws {
        try data.validate()
        data.write(to: &out)
    }
}
