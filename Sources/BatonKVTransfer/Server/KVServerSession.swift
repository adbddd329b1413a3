// One consumer's connection to a producer, after accept: the HMAC challenge and compatibility
// check, then READ / DONE / HEARTBEAT. A READ streams the blocks layer by layer — for each
// layer, the K of every requested block then the V of every requested block, in the order
// asked — as DATA frames, then END. Only blocks held for the named request can be read.

import BatonEngine
import BatonOpenAI
import NIOCore

struct KVServerSession {
    let engine: LLMEngine
    let config: KVTransferConfig
    let compatibility: KVCompatibility
    let allocator: ByteBufferAllocator
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>

    func send(_ frame: KVFrame) async throws {
        try frame.validate()
        var buffer = allocator.buffer(capacity: 64)
        frame.write(to: &buffer)
        try await outbound.write(buffer)
    }

    /// Refuses the peer with `reason` and ends the connection.
    func refuse(_ reason: String) async throws -> Never {
        try? await send(.refuse(reason: KVFrame.clip(reason)))
        throw KVConnectionClosed(reason: reason)
    }

    func handshake(_ frames: inout NIOAsyncChannelInboundStream<KVFrame>.AsyncIterator) async throws {
        let nonce = KVAuth.nonce()
        try await send(.challenge(version: KVTransferProtocol.version, nonce: nonce, engineId: config.engineId))
        guard case .hello(let version, let peerId, let peerCompatibility, let mac)? = try await frames.next() else {
            try await refuse("expected HELLO")
        }
        guard version == KVTransferProtocol.version else {
            try await refuse("protocol version \(version) is not \(KVTransferProtocol.version)")
        }
        guard KVAuth.equal(peerCompatibility, compatibility.digest) else {
            try await refuse("incompatible KV layout or model: this engine is \(compatibility.canonical)")
        }
        guard KVAuth.equal(mac, KVAuth.clientMAC(secret: config.secret, nonce: nonce, compatibility: peerCompatibility, engineId: peerId)) else {
            try await refuse("authentication failed (wrong secret)")
        }
        try await send(.welcome(mac: KVAuth.serverMAC(secret: config.secret, nonce: nonce, compatibility: peerCompatibility)))
    }

    mutating func handle(_ frame: KVFrame) async throws {
        switch frame {
        case .read(let seq, let requestId, let blockIds):
            try await read(seq: seq, requestId: requestId, blockIds: blockIds)
        case .done(let seq, let requestId):
            engine.releaseHeld(requestId)
            try await send(.ok(seq: seq))
        case .heartbeat(let seq, let requestId):
            if engine.renewLease(requestId) != nil {
                try await send(.ok(seq: seq))
            } else {
                try await send(.error(seq: seq, reason: KVFrame.clip("no blocks are held for request '\(requestId)'")))
            }
        default:
            throw KVConnectionClosed(reason: "unexpected frame after the handshake: \(frame.kind)")
        }
    }

    private func read(seq: UInt32, requestId: String, blockIds: [UInt32]) async throws {
        guard let held = engine.renewLease(requestId) else {
            // Expired or released: the consumer recomputes. Not a protocol violation.
            try await send(.error(seq: seq, reason: KVFrame.clip("no blocks are held for request '\(requestId)' (released or lease expired)")))
            return
        }
        let leased = Set(held)
        guard !blockIds.isEmpty, blockIds.allSatisfy({ leased.contains(Int($0)) }) else {
            throw KVConnectionClosed(reason: "READ for '\(requestId)' names blocks it does not hold")
        }
        let cache = engine.cache
        let layerBytes = 2 * blockIds.count * cache.blockBytes
        for layer in 0..<cache.layerCount {
            var buffer = allocator.buffer(capacity: KVFrame.dataHeaderLength + layerBytes)
            KVFrame.writeDataHeader(seq: seq, layer: UInt16(layer), payloadLength: layerBytes, to: &buffer)
            for kv in 0...1 {
                for b in blockIds { buffer.writeBytes(UnsafeRawBufferPointer(cache.block(layer: layer, kv: kv, block: Int(b)))) }
            }
            try await outbound.write(buffer)
        }
        // The lease pinned the blocks while they were copied; if it ended meanwhile they may
        // have been reused, and the consumer must not trust what it got.
        if engine.renewLease(requestId) == nil {
            try await send(.error(seq: seq, reason: KVFrame.clip("the lease of '\(requestId)' ended during the read")))
        } else {
            try await send(.end(seq: seq))
        }
    }
}
