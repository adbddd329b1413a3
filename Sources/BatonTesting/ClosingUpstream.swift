// An engine stand-in that closes a kept-alive connection when its second POST arrives, without
// an answer: what a client sees when its request goes out on an idle connection the server is
// closing at that moment (uvicorn, in front of vLLM, closes connections idle for 5 s). The
// server never read the request, so it is the client's to send again on a new connection. GETs
// are always answered, so health checks and scrapes on the same connections change nothing.

import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

public final class ClosingUpstream: Sendable {
    public let port: Int
    private let channel: any Channel
    private let counts: Counts

    final class Counts: Sendable {
        let answered = Atomic<Int>(0)
        let closed = Atomic<Int>(0)
    }

    public var url: String { "http://127.0.0.1:\(port)" }
    /// POSTs answered.
    public var answered: Int { counts.answered.load(ordering: .relaxed) }
    /// Connections closed on a POST, unanswered.
    public var closed: Int { counts.closed.load(ordering: .relaxed) }

    /// Serves on a free loopback port; a POST's answer is `body` as JSON, or `stream` as
    /// text/event-stream when the request body says `"stream":true`, sent `delay` after the
    /// request (so that requests sent at once overlap, each on a connection of its own).
    public static func start(body: String, stream: String, delay: TimeAmount = .zero) async throws -> ClosingUpstream {
        let counts = Counts()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(counts: counts, body: body, stream: stream, delay: delay))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        guard let port = channel.localAddress?.port else { throw FreePortError() }
        return ClosingUpstream(port: port, channel: channel, counts: counts)
    }

    private init(port: Int, channel: any Channel, counts: Counts) {
        self.port = port
        self.channel = channel
        self.counts = counts
    }

    public func stop() async { try? await channel.close() }

    final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let counts: Counts
        let body: String
        let stream: String
        let delay: TimeAmount
        var posts = 0
        var head: HTTPRequestHead?
        var received = ByteBuffer()

        init(counts: Counts, body: String, stream: String, delay: TimeAmount) {
            self.counts = counts
            self.body = body
            self.stream = stream
            self.delay = delay
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                if head.method == .POST {
                    posts += 1
                    if posts > 1 {
                        counts.closed.add(1, ordering: .relaxed)
                        context.close(promise: nil)
                        return
                    }
                }
                self.head = head
                received.clear()
            case .body(var part):
                received.writeBuffer(&part)
            case .end:
                guard let head else { return }
                self.head = nil
                guard head.method == .POST, delay > .zero else { return answer(head, context: context) }
                context.eventLoop.assumeIsolated().scheduleTask(in: delay) { self.answer(head, context: context) }
            }
        }

        private func answer(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
            let text: String, type: String
            if head.method == .POST {
                counts.answered.add(1, ordering: .relaxed)
                let streaming = String(buffer: received).contains(#""stream":true"#)
                (text, type) = streaming ? (stream, "text/event-stream") : (body, "application/json")
            } else {
                (text, type) = ("", "text/plain")  // /health, /metrics
            }
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: type)
            headers.add(name: "Content-Length", value: String(text.utf8.count))
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
