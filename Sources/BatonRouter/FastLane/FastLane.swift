// The fast lane: the local path's common case served on the client connection's event loop,
// between NIO's HTTP/1 decoder and Hummingbird. A POST to /v1/completions or
// /v1/chat/completions is read whole, tokenized and decided at once; when the decider takes the
// local path by choice (short prompt, cached prefix, no prefill pool) the body goes to the decode
// over a kept-alive engine connection of this event loop and the answer is relayed part by part
// as it comes (no Swift-concurrency task, no AsyncHTTPClient, no thread hop). Everything else
// passes to Hummingbird untouched and takes the slow path (ProxyHandler): splits, fallbacks,
// rejections, other routes, bad or oversized bodies, wrong keys, remote tokenizers, HTTP/1.0.
//
//   head ─ not ours ─────────────────────────────────────────────────▶ Hummingbird
//     └ ours: body… end ─ decideLocal ─ nil ──────────────────────────▶ Hummingbird
//                           └ decode d: engine connection ─ head, body…, end ─▶ client
//   the decode fails before a byte reached the client ─ counted against it ─▶ Hummingbird
//     (which decides again: another decode, or waits for one, as the slow path always does)
//   the decode dies mid-stream ─▶ an SSE error event and [DONE]; the client leaves ─▶ the
//     engine connection is closed (the engine aborts the request and frees its blocks)
//
// One request at a time per connection: a part that arrives while an answer is going out waits
// (and reading stops) until it has ended, so answers keep their order for a pipelining client.

import BatonHTTP
import BatonOpenAI
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// What every connection's fast lane shares.
final class FastLaneShared: Sendable {
    let core: RouterCore
    let tokenizer: any LocalTokenizing
    let loops: UpstreamLoops
    let apiKeys: [[UInt8]]

    /// nil when the fast lane cannot serve: the prompt is tokenized remotely.
    init?(core: RouterCore) {
        guard let tokenizer = core.tokenizer as? any LocalTokenizing else { return nil }
        self.core = core
        self.tokenizer = tokenizer
        loops = UpstreamLoops(
            connectTimeout: .nanoseconds(core.config.timeouts.connect.nanoseconds),
            maxIdlePerEndpoint: max(8, core.config.maxInFlightPerEndpoint))
        apiKeys = core.config.apiKeys.map { Array($0.utf8) }
    }
}

final class FastLane: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    let shared: FastLaneShared
    var core: RouterCore { shared.core }
    var context: ChannelHandlerContext?
    /// The engine connections, token cache and flusher of this connection's event loop.
    let upstreams: LoopUpstreams

    /// A request of ours being read.
    private var reading: (head: HTTPRequestHead, kind: RequestKind, body: ByteBuffer)?
    /// The body of a request given to Hummingbird is still arriving.
    private var passingBody = false
    /// Requests given to Hummingbird whose answer has not ended.
    private var passedAnswers = 0
    /// A part went to Hummingbird since the last read completion passed on.
    private var forwarded = false
    var relay: Relay?
    /// Parts that came while an answer was going out, and whether a read waits for them.
    private var queued = CircularBuffer<HTTPServerRequestPart>()
    private var readHeld = false
    private var draining = false
    var deadlineTimer: Scheduled<Void>?
    /// The server asked to close idle connections while an answer of ours was going out.
    private var quiescePending: (any Sendable)?
    /// The HTTP/1 decoder failed on bytes after a request whose answer was still owed: passed on
    /// (Hummingbird answers 400 and closes) once the answers before it have gone out.
    private var errorPending: (any Error)?

    init(shared: FastLaneShared, upstreams: LoopUpstreams) {
        self.shared = shared
        self.upstreams = upstreams
    }

    private static let empty = ByteBuffer()

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        deadlineTimer?.cancel()
        deadlineTimer = nil
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if relay != nil || !queued.isEmpty {
            queued.append(part)
            return
        }
        take(part, context: context)
    }

    private func take(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        if passingBody {
            if case .end = part { passingBody = false }
            forward(part, context: context)
            return
        }
        switch part {
        case .head(let head):
            if let kind = ours(head) {
                reading = (head, kind, Self.empty)
            } else {
                pass(head, context: context)
            }
        case .body(var chunk):
            guard reading != nil else { return forward(part, context: context) }
            if reading!.body.readableBytes + chunk.readableBytes > core.config.maxBodyBytes {
                // Hummingbird answers 413 as it always does.
                let (head, _, body) = reading!
                reading = nil
                pass(head, context: context)
                forward(.body(body), context: context)
                forward(.body(chunk), context: context)
                return
            }
            if reading!.body.readableBytes == 0 {
                reading!.body = chunk  // the usual case, a body in one read: kept, not copied
            } else {
                reading!.body.writeBuffer(&chunk)
            }
        case .end:
            guard let (head, kind, body) = reading else { return forward(part, context: context) }
            reading = nil
            if let plan = plan(head, kind: kind, body: body) {
                start(plan, context: context)
            } else {
                handOver(head, body: body, context: context)
            }
        }
    }

    /// The kind of a request the fast lane may take: only a POST to one of the two OpenAI
    /// routes, over HTTP/1.1, while Hummingbird owes no answer on this connection.
    private func ours(_ head: HTTPRequestHead) -> RequestKind? {
        guard head.method == .POST, head.version == .http1_1, passedAnswers == 0 else { return nil }
        switch head.uri {
        case "/v1/completions": return .completion
        case "/v1/chat/completions": return .chat
        default: return nil
        }
    }

    /// Gives a request to Hummingbird; its body parts follow.
    private func pass(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        passedAnswers += 1
        passingBody = true
        forward(.head(head), context: context)
    }

    /// Gives a whole request to Hummingbird.
    func handOver(_ head: HTTPRequestHead, body: ByteBuffer, context: ChannelHandlerContext) {
        passedAnswers += 1
        forward(.head(head), context: context)
        if body.readableBytes > 0 { forward(.body(body), context: context) }
        forward(.end(nil), context: context)
    }

    /// Passes a part to Hummingbird.
    private func forward(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        forwarded = true
        context.fireChannelRead(wrapInboundOut(part))
    }

    /// Passes a read completion to Hummingbird (its async channel takes parts only then).
    func fireReadComplete(context: ChannelHandlerContext) {
        forwarded = false
        context.fireChannelReadComplete()
    }

    /// Goes on only after a read that passed something to Hummingbird: a request the lane took
    /// has nothing for the handlers behind it, whose read completion costs a walk through them.
    func channelReadComplete(context: ChannelHandlerContext) {
        if forwarded { fireReadComplete(context: context) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let relay {
            // The client left: drop the engine call (it aborts the request).
            self.relay = nil
            relay.connection?.abandon()
            core.ended(relay.decode, .neutral)
        }
        queued.removeAll()
        deadlineTimer?.cancel()
        deadlineTimer = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if relay != nil || !queued.isEmpty {
            errorPending = error
            return
        }
        context.fireErrorCaught(error)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent, relay != nil || reading != nil || !queued.isEmpty {
            quiescePending = ChannelShouldQuiesceEvent()
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, let relay, relay.paused {
            relay.paused = false
            relay.connection?.setReading(true)
        }
        context.fireChannelWritabilityChanged()
    }

    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let part = unwrapOutboundIn(data)
        context.write(data, promise: promise)
        if case .end = part { passedAnswers -= 1 }
    }

    /// Whatever closes the connection (Hummingbird at a graceful shutdown, an idle client, a
    /// protocol error), the answer parts written for the loop's flusher go out first.
    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        context.flush()
        context.close(mode: mode, promise: promise)
    }

    func read(context: ChannelHandlerContext) {
        if !queued.isEmpty {
            readHeld = true
            return
        }
        context.read()
    }

    /// Takes the parts that waited while an answer of ours went out.
    func drainQueue(context: ChannelHandlerContext) {
        guard !draining else { return }
        draining = true
        defer { draining = false }
        var took = false
        while relay == nil, let part = queued.popFirst() {
            take(part, context: context)
            took = true
        }
        if took { fireReadComplete(context: context) }
        guard queued.isEmpty else { return }
        if readHeld {
            readHeld = false
            context.read()
        }
        if relay == nil, let error = errorPending {
            errorPending = nil
            context.fireErrorCaught(error)
        }
        if relay == nil, reading == nil, let event = quiescePending {
            quiescePending = nil
            context.fireUserInboundEventTriggered(event)
        }
    }
}
