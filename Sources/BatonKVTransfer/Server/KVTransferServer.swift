// A producer's KV transfer server: consumers connect, prove they share the secret and the KV
// layout, then read the blocks this engine holds for them and say DONE. Every connection is
// checked frame by frame; a bad frame, a wrong secret, an incompatible peer or a block id not
// leased to the named request closes that connection (with the reason logged) and nothing
// else. The engine's step loop is never involved: blocks are copied straight out of the KV
// memory while their lease pins them.

import BatonEngine
import BatonOpenAI
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

public struct KVTransferServer: Service {
    public let engine: LLMEngine
    public let config: KVTransferConfig
    public let compatibility: KVCompatibility
    let logger: Logger
    let bound: (@Sendable (Int) -> Void)?
    /// Seconds a connection may stay silent before it is closed.
    let idleTimeoutSeconds = 120

    /// `bound` is told the port once listening (port 0 picks a free one, for tests).
    public init(
        engine: LLMEngine, config: KVTransferConfig, compatibility: KVCompatibility, logger: Logger,
        bound: (@Sendable (Int) -> Void)? = nil
    ) {
        self.engine = engine
        self.config = config
        self.compatibility = compatibility
        self.logger = logger
        self.bound = bound
    }

    public func run() async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            // A layer's blocks are copied while the previous layers are still being sent: let a
            // few megabytes queue before the writer waits.
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 4 << 20, high: 16 << 20))
            .childChannelOption(.socketOption(.so_sndbuf), value: 8 << 20)
            .bind(host: config.host, port: config.port) { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandlers([
                        IdleStateHandler(readTimeout: .seconds(Int64(idleTimeoutSeconds))), CloseOnIdleHandler(),
                    ])
                    try child.pipeline.syncOperations.addHandler(ByteToMessageHandler(KVFrameDecoder(maxFrameLength: KVFrame.maxControlFrameLength)))
                    return try NIOAsyncChannel<KVFrame, ByteBuffer>(wrappingChannelSynchronously: child)
                }
            }
        logger.info("KV transfer server listening on \(config.host):\(server.channel.localAddress?.port ?? config.port) as engine '\(config.engineId)'")
        bound?(server.channel.localAddress?.port ?? config.port)
        // Shutdown cancels the accept loop and every connection's loop with it: a clean end
        // (the engine exits 0 on SIGTERM), not an error.
        do {
            try await cancelWhenGracefulShutdown {
                try await withThrowingDiscardingTaskGroup { group in
                    try await server.executeThenClose { connections in
                        for try await connection in connections {
                            group.addTask { await serve(connection) }
                        }
                    }
                }
            }
        } catch is CancellationError where Task.isShuttingDownGracefully {
            return
        }
    }

    private func serve(_ connection: NIOAsyncChannel<KVFrame, ByteBuffer>) async {
        let peer = connection.channel.remoteAddress?.description ?? "?"
        do {
            try await connection.executeThenClose { inbound, outbound in
                var session = KVServerSession(
                    engine: engine, config: config, compatibility: compatibility,
                    allocator: connection.channel.allocator, outbound: outbound)
                var frames = inbound.makeAsyncIterator()
                try await session.handshake(&frames)
                while let frame = try await frames.next() {
                    try await session.handle(frame)
                }
            }
        } catch let closed as KVConnectionClosed {
            logger.warning("KV transfer: closed connection from \(peer): \(closed.reason)")
        } catch {
            logger.warning("KV transfer: closed connection from \(peer): \(error)")
        }
    }
}

/// Why a connection was closed on purpose.
struct KVConnectionClosed: Error, CustomStringConvertible {
    let reason: String
    var description: String { reason }
}
