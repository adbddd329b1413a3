// The fast lane: the local path's common case served on the client connection's event loop,
// between NIO's HTTP/1 decoder and Hummingbird. A POST to /v1/completions or
// /v1/chat/completions is read whole, decoded, tokenized and decided at once; when the decider
// takes the local path by choice (short prompt, cached prefix, no prefill pool) the body goes to
// the decode over a kept-alive engine connection of this event loop and the answer is relayed
// part by part as it comes (no Swift-concurrency task, no AsyncHTTPClient, no thread hop). A
// request it decided otherwise (a split, a fallback, a rejection) goes to Hummingbird with its
// body, tokens and decision in the connection's handoff slot (Handoff.swift), so the slow path
// (ProxyHandler) carries the decision out without making it again. Everything else passes to
// Hummingbird untouched: other routes, bad or oversized bodies, wrong keys, remote tokenizers,
// HTTP/1.0.
//
//   head ─ not ours ─────────────────────────────────────────────────▶ Hummingbird
//     └ ours: body… end ─ decide ─ split, fallback, reject ─ handoff ─▶ Hummingbird
//                           └ local d: engine connection ─ head, body…, end ─▶ client
//   the decode fails before a byte reached the client ─ counted against it ─▶ Hummingbird
//     (with the body and tokens: it decides again, another decode or a wait for one)
//   the decode dies mid-stream ─▶ an SSE error event and [DONE]; the client leaves ─▶ the
//     engine connection is closed (the engine aborts the request and frees its blocks)
//
// One request at a time per connection: a part that arrives while an answer is going out waits
// (and reading stops) until it has ended, so answers keep their order for a pipelining client.
// The connection's state is one value, `FastLaneConnection`; this handler carries out its actions.

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
    let loops: LoopContexts
    let apiKeys: [[UInt8]]

    /// nil when the fast lane cannot serve: the prompt is tokenized remotely.
    init?(core: RouterCore) {
        guard let tokenizer = core.tokenizer as? any LocalTokenizing else { return nil }
        self.core = core
        self.tokenizer = tokenizer
        loops = LoopContexts(
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
    /// This event loop's engine connections, token cache, decoder, request ids and flusher.
    let loop: LoopContext
    var upstreams: LoopUpstreams { loop.upstreams }
    /// Requests handed to Hummingbird with what was done for them.
    let handoff: HandoffSlot
    /// Handoffs made on this connection: the next one's number (its `x-baton-handoff`).
    var handoffs: UInt64 = 0

    var state: FastLaneConnection
    /// The answer of ours going out.
    var relay: Relay?
    var deadlineTimer: Scheduled<Void>?

    init(shared: FastLaneShared, loop: LoopContext, handoff: HandoffSlot) {
        self.shared = shared
        self.loop = loop
        self.handoff = handoff
        state = FastLaneConnection(maxBodyBytes: shared.core.config.maxBodyBytes)
    }

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
        run(state.read(unwrapInboundIn(data)), context: context)
    }

    private func run(_ action: FastLaneConnection.ReadAction, context: ChannelHandlerContext) {
        switch action {
        case .none: break
        case .forward(let part): context.fireChannelRead(wrapInboundOut(part))
        case .passOversized(let head, let body, let chunk):
            context.fireChannelRead(wrapInboundOut(.head(head)))
            context.fireChannelRead(wrapInboundOut(.body(body)))
            context.fireChannelRead(wrapInboundOut(.body(chunk)))
        case .decide(let head, let kind, let body):
            switch decide(head, kind: kind, body: body) {
            case .relay(let plan):
                state.relayStarted()
                start(plan, context: context)
            case .handOver(let handoff):
                handOver(head, body: body, handoff: handoff, context: context)
            }
        }
    }

    /// Gives a whole request to Hummingbird, with what was done for it.
    func handOver(_ head: HTTPRequestHead, body: ByteBuffer, handoff: Handoff?, context: ChannelHandlerContext) {
        var head = head
        if let handoff {
            // Tied to its request in-band: only the handler of the head naming it takes it.
            handoffs += 1
            let id = String(handoffs)
            self.handoff.put(handoff, id: id)
            head.headers.replaceOrAdd(name: HandoffSlot.header, value: id)
        }
        state.handedOver()
        context.fireChannelRead(wrapInboundOut(.head(head)))
        if body.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(.body(body))) }
        context.fireChannelRead(wrapInboundOut(.end(nil)))
    }

    /// Passes a read completion to Hummingbird outside a read (its async channel takes parts
    /// only then).
    func fireReadComplete(context: ChannelHandlerContext) {
        state.readCompletePassed()
        context.fireChannelReadComplete()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if state.readComplete() { context.fireChannelReadComplete() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if state.closed(), let relay {
            // The client left: drop the engine call (it aborts the request).
            self.relay = nil
            relay.connection?.abandon()
            core.ended(relay.decode, .neutral)
        }
        // A handoff its request's handler did not take yet: it finds none and reads the request
        // itself (whichever takes the slot first owns the decision's counts).
        if let left = handoff.takeAny(), let decided = left.decided { core.release(decided.decision) }
        deadlineTimer?.cancel()
        deadlineTimer = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if state.decoderFailed(error) { context.fireErrorCaught(error) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent, !state.quiesce() { return }
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
        if case .end = part {
            state.passedAnswerEnded()
            // A handoff Hummingbird's handler never took (its request answered otherwise).
            if let left = handoff.takeAny(), let decided = left.decided { core.release(decided.decision) }
        }
    }

    /// Whatever closes the connection (Hummingbird at a graceful shutdown, an idle client, a
    /// protocol error), the answer parts written for the loop's flusher go out first.
    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        context.flush()
        context.close(mode: mode, promise: promise)
    }

    func read(context: ChannelHandlerContext) {
        if state.readRequested() { context.read() }
    }

    /// Takes the parts that waited while an answer of ours went out, then what waited on them.
    func drainQueue(context: ChannelHandlerContext) {
        guard state.beginDrain() else { return }
        var took = false
        while let part = state.nextQueued() {
            run(state.take(part), context: context)
            took = true
        }
        for action in state.endDrain(took: took) {
            switch action {
            case .fireReadComplete: context.fireChannelReadComplete()
            case .read: context.read()
            case .fireError(let error): context.fireErrorCaught(error)
            case .fireQuiesce: context.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
            }
        }
    }
}
