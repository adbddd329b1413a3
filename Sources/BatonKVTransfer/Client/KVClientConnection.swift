// One consumer-side connection to a producer, shared by every pull and heartbeat to it: each
// request gets a sequence number and a handler, and the connection's reader hands every
// incoming frame to the handler of its sequence number. When the connection ends, every
// handler still waiting is failed.

import NIOCore
import Synchronization

final class KVClientConnection: Sendable {
    /// Receives the frames of one request; returns true when the request is complete.
    typealias Handler = @Sendable (KVReply) -> Bool

    let peerEngineId: String
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private let allocator: ByteBufferAllocator
    private let state = Mutex<State>(State())

    private struct State {
        var nextSeq: UInt32 = 1
        var handlers: [UInt32: Handler] = [:]
        var closed: String?
    }

    init(peerEngineId: String, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, allocator: ByteBufferAllocator) {
        self.peerEngineId = peerEngineId
        self.outbound = outbound
        self.allocator = allocator
    }

    var isOpen: Bool { state.withLock { $0.closed == nil } }

    /// Sends the frame `make(seq)` with `handler` registered for its replies.
    func send(_ make: (UInt32) -> KVFrame, handler: @escaping Handler) async throws -> UInt32 {
        let seq: UInt32 = try state.withLock { s in
            if let reason = s.closed { throw KVTransferError.connectionClosed(reason) }
            let seq = s.nextSeq
            s.nextSeq &+= 1
            s.handlers[seq] = handler
            return seq
        }
        let frame = make(seq)
        do {
            try frame.validate()
        } catch {
            cancel(seq)
            throw error
        }
        var buffer = allocator.buffer(capacity: 256)
        frame.write(to: &buffer)
        do {
            try await outbound.write(buffer)
        } catch {
            cancel(seq)
            throw error
        }
        return seq
    }

    /// Forgets `seq`'s handler (its caller gave up); late frames for it are dropped.
    func cancel(_ seq: UInt32) { _ = state.withLock { $0.handlers.removeValue(forKey: seq) } }

    /// Hands `reply` to its request's handler.
    func dispatch(_ reply: KVReply) throws {
        guard let seq = reply.seq else {
            if case .frame(let frame) = reply { throw KVTransferError.protocolViolation("unexpected frame \(frame.kind)") }
            return
        }
        guard let handler = state.withLock({ $0.handlers[seq] }) else { return }
        if handler(reply) { cancel(seq) }
    }

    /// The connection ended: fail everything still waiting.
    func close(_ reason: String) {
        let handlers = state.withLock { s -> [Handler] in
            if s.closed == nil { s.closed = reason }
            defer { s.handlers.removeAll() }
            return Array(s.handlers.values)
        }
        for h in handlers { _ = h(.failure(KVTransferError.connectionClosed(reason))) }
    }
}
