// The consumer's connections, one per producer address, opened on first use (the handshake
// happens once per peer) and reopened after they close. Callers that arrive while a
// connection is being opened wait for it.

import BatonEngine
import BatonOpenAI
import Logging
import NIOCore
import NIOPosix

actor KVPeerPool {
    private enum Entry {
        case connecting([CheckedContinuation<KVClientConnection, Error>])
        case ready(KVClientConnection)
    }

    private let config: KVTransferConfig
    private let compatibility: KVCompatibility
    private let logger: Logger
    /// Runs a connection's reader for as long as it lives (inside the connector's task group);
    /// false once the connector has stopped taking work.
    private let spawn: @Sendable (@escaping @Sendable () async -> Void) -> Bool
    private var entries: [String: Entry] = [:]

    init(
        config: KVTransferConfig, compatibility: KVCompatibility, logger: Logger,
        spawn: @escaping @Sendable (@escaping @Sendable () async -> Void) -> Bool
    ) {
        self.config = config
        self.compatibility = compatibility
        self.logger = logger
        self.spawn = spawn
    }

    func connection(to remote: RemotePrefill) async throws -> KVClientConnection {
        let key = "\(remote.host):\(remote.port)"
        switch entries[key] {
        case .ready(let c) where c.isOpen:
            guard c.peerEngineId == remote.engineId else {
                throw KVTransferError.refused("\(key) is engine '\(c.peerEngineId)', not '\(remote.engineId)'")
            }
            return c
        case .connecting(var waiters):
            return try await withCheckedThrowingContinuation { c in
                waiters.append(c)
                entries[key] = .connecting(waiters)
            }
        default:
            entries[key] = .connecting([])
            let result: Result<KVClientConnection, Error>
            do {
                result = .success(try await open(remote))
            } catch {
                result = .failure(error)
            }
            guard case .connecting(let waiters) = entries[key] else { return try result.get() }
            switch result {
            case .success(let c): entries[key] = .ready(c)
            case .failure: entries[key] = nil
            }
            for w in waiters { w.resume(with: result) }
            let c = try result.get()
            guard c.peerEngineId == remote.engineId else {
                throw KVTransferError.refused("\(key) is engine '\(c.peerEngineId)', not '\(remote.engineId)'")
            }
            return c
        }
    }

    private func open(_ remote: RemotePrefill) async throws -> KVClientConnection {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(3))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            // Block payloads come in megabytes: read them in big gulps, not NIO's default
            // 64 KiB, or the syscalls and cumulation copies cost more than the bytes.
            .channelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64 << 10, initial: 4 << 20, maximum: 16 << 20))
            .channelOption(.socketOption(.so_rcvbuf), value: 8 << 20)
            .connect(host: remote.host, port: remote.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let router = KVStreamingDecoder()
                    try channel.pipeline.syncOperations.addHandler(router)
                    return (try NIOAsyncChannel<KVFrame, ByteBuffer>(wrappingChannelSynchronously: channel), router)
                }
            }
        let config = self.config
        let compatibility = self.compatibility
        let logger = self.logger
        return try await withCheckedThrowingContinuation { ready in
            let taken = spawn {
                await Self.run(channel.0, router: channel.1, config: config, compatibility: compatibility, logger: logger, ready: ready)
            }
            if !taken {
                channel.0.channel.close(promise: nil)
                ready.resume(throwing: KVTransferError.connectionClosed("the connector is shutting down"))
            }
        }
    }

    /// Owns one connection: the handshake (resuming `ready`), then its reader until it ends.
    private static func run(
        _ channel: NIOAsyncChannel<KVFrame, ByteBuffer>, router: KVStreamingDecoder, config: KVTransferConfig, compatibility: KVCompatibility,
        logger: Logger, ready: CheckedContinuation<KVClientConnection, Error>
    ) async {
        var connection: KVClientConnection?
        var readyPending = true
        do {
            try await channel.executeThenClose { inbound, outbound in
                var frames = inbound.makeAsyncIterator()
                guard case .challenge(let version, let nonce, let peerId)? = try await frames.next() else {
                    throw KVTransferError.protocolViolation("expected CHALLENGE")
                }
                guard version == KVTransferProtocol.version else {
                    throw KVTransferError.refused("protocol version \(version) is not \(KVTransferProtocol.version)")
                }
                var hello = channel.channel.allocator.buffer(capacity: 256)
                KVFrame.hello(
                    version: KVTransferProtocol.version, engineId: config.engineId, compatibility: compatibility.digest,
                    mac: KVAuth.clientMAC(secret: config.secret, nonce: nonce, compatibility: compatibility.digest, engineId: config.engineId)
                ).write(to: &hello)
                try await outbound.write(hello)
                switch try await frames.next() {
                case .welcome(let mac)?:
                    guard KVAuth.equal(mac, KVAuth.serverMAC(secret: config.secret, nonce: nonce, compatibility: compatibility.digest)) else {
                        throw KVTransferError.refused("the producer does not know the secret")
                    }
                case .refuse(let reason)?: throw KVTransferError.refused(reason)
                case let other?: throw KVTransferError.protocolViolation("expected WELCOME, got \(other.kind)")
                case nil: throw KVTransferError.connectionClosed("closed during the handshake")
                }
                let c = KVClientConnection(peerEngineId: peerId, outbound: outbound, allocator: channel.channel.allocator)
                connection = c
                router.route { try c.dispatch($0) }
                readyPending = false
                ready.resume(returning: c)
                // Replies are routed on the event loop now; this loop sees the connection end
                // (and any frame that slipped past before routing began).
                while let frame = try await frames.next() { try c.dispatch(.frame(frame)) }
                c.close("the producer closed the connection")
            }
        } catch {
            if readyPending { ready.resume(throwing: error) }
            logger.warning("KV transfer: connection to a producer ended: \(error)")
            connection?.close("\(error)")
        }
    }
}
