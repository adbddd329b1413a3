// Client connections that are idle are closed, as nginx's keepalive_timeout and
// client_header_timeout or uvicorn's timeout_keep_alive close them: a kept-alive connection with
// no request for `timeouts.idle`, or one whose request stopped arriving for that long while
// nothing is being answered. A connection that is being answered is never idle, however long
// the stream. The handler sits between NIO's HTTP/1 decoder and the fast lane, so it sees every
// request part and every answer part, the fast lane's and Hummingbird's alike.

import NIOCore
import NIOHTTP1

/// When a client connection is idle: the decision, without the channel.
struct IdleConnection {
    let timeout: TimeAmount
    /// Requests whose head came and whose answer has not ended.
    private(set) var inProgress = 0
    /// A request's head came and its end has not.
    private(set) var reading = false
    private(set) var lastActive: NIODeadline

    init(timeout: TimeAmount, now: NIODeadline) {
        self.timeout = timeout
        lastActive = now
    }

    enum Action: Equatable { case close, check(at: NIODeadline) }

    mutating func read(_ part: HTTPServerRequestPart, now: NIODeadline) {
        lastActive = now
        switch part {
        case .head:
            inProgress += 1
            reading = true
        case .body: break
        case .end: reading = false
        }
    }

    mutating func answerEnded(now: NIODeadline) {
        inProgress = max(0, inProgress - 1)
        lastActive = now
    }

    /// An answer is going out (beyond a request still being read, which may be a pipelined one
    /// whose reading the fast lane holds until the answer before it has ended).
    var answering: Bool { inProgress > (reading ? 1 : 0) }

    func check(now: NIODeadline) -> Action {
        if answering { return .check(at: now + timeout) }
        let due = lastActive + timeout
        return now >= due ? .close : .check(at: due)
    }
}

final class IdleConnectionCloser: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private var state: IdleConnection
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount) {
        state = IdleConnection(timeout: timeout, now: .now())
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context: context, at: .now() + state.timeout) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context: context, at: .now() + state.timeout)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        state.read(unwrapInboundIn(data), now: .now())
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { state.answerEnded(now: .now()) }
        context.write(data, promise: promise)
    }

    /// One timer per connection, set again when it fires on a connection that is not idle.
    private func arm(context: ChannelHandlerContext, at deadline: NIODeadline) {
        guard timer == nil else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [weak self] in
            guard let self else { return }
            self.timer = nil
            switch self.state.check(now: .now()) {
            // From the pipeline's tail, so the fast lane flushes what it holds first.
            case .close: context.channel.close(promise: nil)
            case .check(let at): self.arm(context: context, at: at)
            }
        }
    }
}
