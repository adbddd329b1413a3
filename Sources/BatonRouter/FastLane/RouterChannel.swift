// The router's HTTP/1 connections: Hummingbird's, with the fast lane put between NIO's HTTP/1
// decoder and Hummingbird's conversion to HTTP types (FastLane.swift), where it sees whole
// NIO request parts and writes NIO response parts.

import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypesHTTP1

struct RouterHTTP1Channel: ServerChildChannel {
    /// Hummingbird's connection, and the slot through which the fast lane hands requests to
    /// its handler (Handoff.swift).
    struct Value: ServerChildChannelValue {
        let http1: HTTP1Channel.Value
        let handoff: HandoffSlot?
        var channel: any Channel { http1.channel }
    }

    let http1: HTTP1Channel
    let fastLane: FastLaneShared?
    /// Client connections idle this long are closed (IdleConnections.swift); nil: never.
    let idleTimeout: TimeAmount?

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let (fastLane, idleTimeout) = (fastLane, idleTimeout)
        return http1.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            let codec = try pipeline.handler(type: HTTP1ToHTTPServerCodec.self)
            // decoder → idle closer → fast lane → Hummingbird's codec
            if let idleTimeout { try pipeline.addHandler(IdleConnectionCloser(timeout: idleTimeout), position: .before(codec)) }
            guard let fastLane else { return Value(http1: value, handoff: nil) }
            // Set up on the channel's event loop, whose engine connections the lane uses.
            let handoff = HandoffSlot()
            let lane = FastLane(shared: fastLane, loop: fastLane.loops.forLoop(channel.eventLoop), handoff: handoff)
            try pipeline.addHandler(lane, position: .before(codec))
            return Value(http1: value, handoff: handoff)
        }
    }

    /// The connection's requests are served in this task: its handler finds the slot here.
    func handle(value: Value, logger: Logger) async {
        await HandoffSlot.$current.withValue(value.handoff) {
            await http1.handle(value: value.http1, logger: logger)
        }
    }
}

extension HTTPServerBuilder {
    /// What `core`'s router serves on: HTTP/1 with half-closure off, and the fast lane if the
    /// config wants it and the tokenizer is local.
    public static func router(_ core: RouterCore) -> HTTPServerBuilder {
        let fastLane = core.config.fastLane ? FastLaneShared(core: core) : nil
        return .init { responder in
            RouterHTTP1Channel(
                http1: HTTP1Channel(responder: responder, configuration: .init(additionalChannelHandlers: [NoHalfClosure()])),
                fastLane: fastLane, idleTimeout: core.config.timeouts.idle.map { .nanoseconds($0.nanoseconds) })
        }
    }
}
