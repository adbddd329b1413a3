// Keep-alive HTTP/1.1 connections to the engines for the fast lane, one set per event loop: a
// request's engine call runs on its client connection's event loop, so a relayed byte never
// changes threads. NIO's HTTP/1 client codec does the HTTP; this file only keeps connections
// (AsyncHTTPClient's pool, which the slow path uses, hands every call to Swift concurrency and
// back).
//
//   connection(to:) ─ an idle one (reused) or a new one ─▶ send(head, body) ─▶ delegate gets
//   head, body…, end ─▶ release: idle again if both sides said keep-alive, else closed

import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// What an engine connection reports to the request using it, on its event loop.
protocol UpstreamDelegate: AnyObject {
    func upstreamHead(_ head: HTTPResponseHead)
    func upstreamBody(_ buffer: ByteBuffer)
    func upstreamEnd()
    /// The parts of one read of the connection have all been passed on (a time to flush).
    func upstreamReadComplete()
    /// The connection broke or closed before the end of the answer.
    func upstreamFailed(_ error: any Error)
}

struct UpstreamClosed: Error, CustomStringConvertible {
    var description: String { "the engine closed the connection" }
}

/// One connection to an engine, used by one request at a time.
final class UpstreamConnection {
    let channel: any Channel
    let endpoint: Endpoint
    /// The endpoint's index in the router's pool (stable for its URL), which keys the idle lists.
    let slot: Int
    fileprivate(set) var keepAlive = true
    /// Reading was stopped (the client could not take more) and must resume before reuse.
    fileprivate var paused = false
    fileprivate weak var delegate: (any UpstreamDelegate)?

    fileprivate init(channel: any Channel, endpoint: Endpoint, slot: Int) {
        self.channel = channel
        self.endpoint = endpoint
        self.slot = slot
    }

    /// Writes a whole request, flushed by `flusher` at the end of the loop's tick; its answer
    /// goes to `delegate`.
    func send(_ head: HTTPRequestHead, body: ByteBuffer, delegate: any UpstreamDelegate, flusher: LoopFlusher) {
        self.delegate = delegate
        keepAlive = head.isKeepAlive
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil)
        channel.write(HTTPClientRequestPart.end(nil), promise: nil)
        flusher.flushSoon(channel)
    }

    /// Stops or resumes reading the answer (the client cannot take more yet).
    func setReading(_ on: Bool) {
        paused = !on
        channel.setOption(ChannelOptions.autoRead, value: on).whenFailure { _ in }
        if on { channel.read() }
    }

    /// Drops the connection (the request was given up): the engine sees it close and aborts.
    func abandon() {
        delegate = nil
        keepAlive = false
        channel.close(promise: nil)
    }
}

/// Passes a connection's answer to its delegate.
private final class UpstreamHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    weak var connection: UpstreamConnection?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let connection else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            if !head.isKeepAlive { connection.keepAlive = false }
            connection.delegate?.upstreamHead(head)
        case .body(let buffer):
            connection.delegate?.upstreamBody(buffer)
        case .end:
            let delegate = connection.delegate
            connection.delegate = nil
            delegate?.upstreamEnd()
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        connection?.delegate?.upstreamReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        guard let connection else { return }
        connection.keepAlive = false
        let delegate = connection.delegate
        connection.delegate = nil
        delegate?.upstreamFailed(UpstreamClosed())
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let connection else { return }
        connection.keepAlive = false
        let delegate = connection.delegate
        connection.delegate = nil
        delegate?.upstreamFailed(error)
        context.close(promise: nil)
    }
}

/// One event loop's engine connections; used only on that loop.
final class LoopUpstreams {
    let eventLoop: any EventLoop
    let connectTimeout: TimeAmount
    /// Idle connections kept per engine (more are closed as they come back).
    let maxIdlePerEndpoint: Int
    /// Idle connections by endpoint slot.
    private var idle: [Int: [UpstreamConnection]] = [:]

    init(eventLoop: any EventLoop, connectTimeout: TimeAmount, maxIdlePerEndpoint: Int) {
        self.eventLoop = eventLoop
        self.connectTimeout = connectTimeout
        self.maxIdlePerEndpoint = maxIdlePerEndpoint
    }

    /// An open connection to `endpoint` (the pool's member `slot`): an idle one unless `fresh`,
    /// else a new one.
    func connection(
        to endpoint: Endpoint, slot: Int, fresh: Bool = false, _ done: @escaping (Result<UpstreamConnection, any Error>) -> Void
    ) {
        eventLoop.preconditionInEventLoop()
        while !fresh, let c = idle[slot]?.popLast() {
            guard c.channel.isActive, c.endpoint == endpoint else {
                c.channel.close(promise: nil)
                continue
            }
            return done(.success(c))
        }
        ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // The request heads are the fast lane's own (values that came through the
                    // client's parsed request or were made here): no second validation pass.
                    try channel.pipeline.syncOperations.addHTTPClientHandlers(enableOutboundHeaderValidation: false)
                    try channel.pipeline.syncOperations.addHandler(UpstreamHandler())
                }
            }
            .connect(host: endpoint.host, port: endpoint.port)
            .assumeIsolated()
            .whenComplete { result in
                done(result.flatMap { channel in
                    Result {
                        let connection = UpstreamConnection(channel: channel, endpoint: endpoint, slot: slot)
                        try channel.pipeline.syncOperations.handler(type: UpstreamHandler.self).connection = connection
                        return connection
                    }
                })
            }
    }

    /// A connection whose answer has ended: kept for the next request if it may be, else closed.
    func release(_ c: UpstreamConnection) {
        eventLoop.preconditionInEventLoop()
        c.delegate = nil
        guard c.keepAlive, c.channel.isActive, (idle[c.slot]?.count ?? 0) < maxIdlePerEndpoint else {
            c.channel.close(promise: nil)
            return
        }
        if c.paused { c.setReading(true) }
        idle[c.slot, default: []].append(c)
    }
}
