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

    private let shared: FastLaneShared
    private var core: RouterCore { shared.core }
    private var context: ChannelHandlerContext?
    /// The engine connections, token cache and flusher of this connection's event loop.
    private let upstreams: LoopUpstreams

    /// A request of ours being read.
    private var reading: (head: HTTPRequestHead, kind: RequestKind, body: ByteBuffer)?
    /// The body of a request given to Hummingbird is still arriving.
    private var passingBody = false
    /// Requests given to Hummingbird whose answer has not ended.
    private var passedAnswers = 0
    /// A part went to Hummingbird since the last read completion passed on.
    private var forwarded = false
    private var relay: Relay?
    /// Parts that came while an answer was going out, and whether a read waits for them.
    private var queued = CircularBuffer<HTTPServerRequestPart>()
    private var readHeld = false
    private var draining = false
    private var deadlineTimer: Scheduled<Void>?
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
    private func handOver(_ head: HTTPRequestHead, body: ByteBuffer, context: ChannelHandlerContext) {
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
    private func fireReadComplete(context: ChannelHandlerContext) {
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
    private func drainQueue(context: ChannelHandlerContext) {
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

// MARK: - Deciding

extension FastLane {
    struct Plan {
        var requestId: String
        var decode: Int
        var endpoint: Endpoint
        var stream: Bool
        var keepAlive: Bool
        var upstreamHead: HTTPRequestHead
        var upstreamBody: ByteBuffer
        /// The client's request as it came, for Hummingbird if the decode fails.
        var clientHead: HTTPRequestHead
        var clientBody: ByteBuffer
        /// The request id was made here (the client sent none): Hummingbird must get it too.
        var madeRequestId: Bool
        /// When it was taken up, before it was decoded, tokenized and decided: the router's own
        /// time (baton_router_overhead_seconds) and the request timeout count from here, as the
        /// slow path's count from its handler's start.
        var received: NIODeadline

        /// The client's request with the request id it is answered under.
        var handedOverHead: HTTPRequestHead {
            guard madeRequestId else { return clientHead }
            var head = clientHead
            head.headers.replaceOrAdd(name: "X-Request-Id", value: requestId)
            return head
        }
    }

    /// The fields of the body the fast lane reads (ProxyBody's view of them, without decoding
    /// the rest into a tree); a body with a kv_transfer_params is not the fast lane's (the slow
    /// path removes it before forwarding).
    struct LaneFields: Decodable {
        var prompt: PromptFields
        var stream: Bool
        var user: String?
        var cacheSalt: String?

        struct HasTransferParams: Error {}

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: PromptFields.BodyKeys.self)
            guard !c.contains(.kvTransferParams) else { throw HasTransferParams() }
            stream = (try? c.decodeIfPresent(Bool.self, forKey: .stream)) ?? false
            user = (try? c.decodeIfPresent(String.self, forKey: .user)) ?? nil
            cacheSalt = (try? c.decodeIfPresent(String.self, forKey: .cacheSalt)) ?? nil
            prompt = try PromptFields(c)
        }
    }

    /// The decode that takes this request on the local path by choice, and what to send it; nil
    /// for the slow path (which then decides, or answers the error, itself).
    private func plan(_ head: HTTPRequestHead, kind: RequestKind, body: ByteBuffer) -> Plan? {
        let received = NIODeadline.now()
        let config = core.config
        if !shared.apiKeys.isEmpty {
            guard let auth = head.headers.first(name: "authorization"), auth.hasPrefix("Bearer "),
                  APIKeys.matchesAny(Array(auth.utf8.dropFirst(7)), shared.apiKeys)
            else { return nil }
        }
        guard let fields = try? upstreams.decoder.decode(LaneFields.self, from: body),
              let source = try? fields.prompt.source(kind),
              let tokens = try? shared.tokenizer.tokensNow(source, cache: &upstreams.tokenCache) else { return nil }
        let session = head.headers.first(name: config.sessionHeader) ?? fields.user
        let routing = RoutingRequest(tokens: tokens, blockSize: config.blockSize, salt: fields.cacheSalt, session: session)
        // Decided and counted in flight under one lock; its gauges are set from the same snapshot.
        guard let (decode, reason, held, member) = core.state.withLock({ s -> (Int, DecisionReason, Int, EndpointPool.Member)? in
            guard let d = s.decideLocal(routing) else { return nil }
            return (d.decode, d.reason, d.heldBlocks, s.pool.members[d.decode])
        }) else { return nil }
        let endpoint = member.endpoint
        core.metrics.prefix(hit: held, of: routing.blockHashes.count)
        core.metrics.decision(path: "local", reason: reason)
        core.metrics.fastLane.increment()
        core.metrics.endpoint(decode, member)

        let requestId: String, madeRequestId: Bool
        if let given = head.headers.first(name: "x-request-id"), !given.isEmpty, given.count <= 256 {
            (requestId, madeRequestId) = (given, false)
        } else {
            (requestId, madeRequestId) = (upstreams.newRequestId(), true)
        }
        let upstreamBody = body
        var headers = HTTPHeaders()
        headers.reserveCapacity(5)
        headers.add(name: "Host", value: endpoint.hostHeader)
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(upstreamBody.readableBytes))
        headers.add(name: "X-Request-Id", value: requestId)
        if let auth = core.upstream.authorization ?? head.headers.first(name: "authorization") {
            headers.add(name: "Authorization", value: auth)
        }
        return Plan(
            requestId: requestId, decode: decode, endpoint: endpoint, stream: fields.stream, keepAlive: head.isKeepAlive,
            upstreamHead: HTTPRequestHead(version: .http1_1, method: .POST, uri: kind.path, headers: headers),
            upstreamBody: upstreamBody, clientHead: head, clientBody: body, madeRequestId: madeRequestId, received: received)
    }
}

// MARK: - Relaying

extension FastLane: UpstreamDelegate {
    final class Relay {
        let plan: Plan
        var decode: Int { plan.decode }
        var connection: UpstreamConnection?
        /// Past it the engine call counts as timed out (`timeouts.request`).
        let deadline: NIODeadline
        /// Time spent waiting on the engine before the first byte went out.
        var waited: TimeAmount = .zero
        var sentAt = NIODeadline.now()
        var phase = Phase.connecting
        var paused = false
        /// A reused connection that broke before any answer is tried once more on a new one.
        var retriedStale = false

        enum Phase {
            case connecting, awaitingHead
            /// A 2xx streaming answer: its head waits for the first body part.
            case awaitingFirstByte(HTTPResponseHead)
            /// Any other answer, collected whole (as the slow path does).
            case collecting(HTTPResponseHead, ByteBuffer)
            case streaming
        }

        init(plan: Plan, deadline: NIODeadline) {
            self.plan = plan
            self.deadline = deadline
        }
    }

    private func start(_ plan: Plan, context: ChannelHandlerContext) {
        let relay = Relay(plan: plan, deadline: plan.received + .nanoseconds(core.config.timeouts.request.nanoseconds))
        self.relay = relay
        watchDeadline(context: context)
        connect(relay)
    }

    /// One timer per connection, not per request: it fires at the current relay's deadline, or
    /// is set again for the relay running when it fires (answers mostly end long before it).
    private func watchDeadline(context: ChannelHandlerContext) {
        guard deadlineTimer == nil, let relay else { return }
        deadlineTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: relay.deadline) { [weak self] in
            guard let self else { return }
            self.deadlineTimer = nil
            guard let relay = self.relay, let context = self.context else { return }
            if relay.deadline <= .now() {
                self.timedOut(relay)
            } else {
                self.watchDeadline(context: context)
            }
        }
    }

    private func connect(_ relay: Relay) {
        relay.phase = .connecting
        upstreams.connection(to: relay.plan.endpoint, slot: relay.plan.decode) { [weak self] result in
            guard let self, self.relay === relay else {
                if case .success(let c) = result { c.channel.close(promise: nil) }
                return
            }
            switch result {
            case .success(let connection):
                relay.connection = connection
                relay.phase = .awaitingHead
                relay.sentAt = .now()
                connection.send(relay.plan.upstreamHead, body: relay.plan.upstreamBody, delegate: self, flusher: self.upstreams.flusher)
            case .failure(let error):
                self.failedBeforeAnswer(relay, "decode call failed: \(error)")
            }
        }
    }

    func upstreamHead(_ head: HTTPResponseHead) {
        guard let relay else { return }
        let status = Int(head.status.code)
        if status >= 500 {
            relay.connection?.abandon()
            return failedBeforeAnswer(relay, "HTTP \(status) from the decode")
        }
        if relay.plan.stream, (200..<300).contains(status) {
            relay.phase = .awaitingFirstByte(head)
        } else {
            relay.phase = .collecting(head, ByteBuffer())
        }
    }

    func upstreamBody(_ buffer: ByteBuffer) {
        guard let relay, let context else { return }
        switch relay.phase {
        case .awaitingFirstByte(let upstreamHead):
            relay.waited = .now() - relay.sentAt
            relay.phase = .streaming
            var headers = answerHeaders(relay, contentType: upstreamHead.headers.first(name: "content-type") ?? "text/event-stream")
            headers.add(name: "Cache-Control", value: "no-cache")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            firstByte(relay, status: 200)
            fallthrough
        case .streaming:
            // Flushed at the end of the engine's read (upstreamReadComplete): what came in one
            // read goes out in one write, and nothing waits longer than that read.
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            if !context.channel.isWritable, !relay.paused {
                relay.paused = true
                relay.connection?.setReading(false)
            }
        case .collecting(let head, var body):
            guard body.readableBytes + buffer.readableBytes <= 64 << 20 else {
                relay.connection?.abandon()
                return failedBeforeAnswer(relay, "the decode's answer is over 64 MiB")
            }
            var buffer = buffer
            relay.phase = .streaming  // drop the phase's copy of the body before appending
            body.writeBuffer(&buffer)
            relay.phase = .collecting(head, body)
        case .connecting, .awaitingHead:
            break
        }
    }

    func upstreamReadComplete() {
        guard let relay, case .streaming = relay.phase, let context else { return }
        upstreams.flusher.flushSoon(context.channel)
    }

    func upstreamEnd() {
        guard let relay, let context else { return }
        switch relay.phase {
        case .awaitingFirstByte:
            release(relay)
            failedBeforeAnswer(relay, "the decode's stream ended before its first byte")
        case .streaming:
            release(relay)
            finish(relay, outcome: .success, context: context)
        case .collecting(let head, let body):
            relay.waited = .now() - relay.sentAt
            release(relay)
            let status = Int(head.status.code)
            var headers = answerHeaders(relay, contentType: head.headers.first(name: "content-type") ?? "application/json")
            headers.add(name: "Content-Length", value: String(body.readableBytes))
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: head.status, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            firstByte(relay, status: status)
            finish(relay, outcome: (200..<300).contains(status) ? .success : .neutral, context: context)
        case .connecting, .awaitingHead:
            break
        }
    }

    func upstreamFailed(_ error: any Error) {
        guard let relay, let context else { return }
        relay.connection = nil
        switch relay.phase {
        case .streaming:
            core.logger.warning("decode stream broke", metadata: ["request_id": "\(relay.plan.requestId)", "error": "\(error)"])
            context.write(wrapOutboundOut(.body(.byteBuffer(ProxyHandler.streamError(error)))), promise: nil)
            finish(relay, outcome: .failure("the decode's stream broke: \(error)"), context: context)
        case .awaitingHead where !relay.retriedStale:
            // A kept-alive connection the engine had closed: not the engine's failure.
            relay.retriedStale = true
            connect(relay)
        default:
            failedBeforeAnswer(relay, "decode call failed: \(error)")
        }
    }

    private func timedOut(_ relay: Relay) {
        guard self.relay === relay, let context else { return }
        relay.connection?.abandon()
        relay.connection = nil
        if case .streaming = relay.phase {
            context.write(wrapOutboundOut(.body(.byteBuffer(ProxyHandler.streamError(UpstreamTimeout())))), promise: nil)
            finish(relay, outcome: .failure("the decode call timed out"), context: context)
        } else {
            failedBeforeAnswer(relay, "the decode call timed out")
        }
    }

    /// Nothing reached the client yet: the failure counts against the decode, and Hummingbird
    /// takes the request (another decode, as the slow path's retries do).
    private func failedBeforeAnswer(_ relay: Relay, _ reason: String) {
        guard self.relay === relay, let context else { return }
        self.relay = nil
        relay.connection = nil
        core.ended(relay.decode, .failure(reason))
        core.metrics.retry(role: .decode)
        handOver(relay.plan.handedOverHead, body: relay.plan.clientBody, context: context)
        drainQueue(context: context)
        // Outside a read, Hummingbird's async channel takes parts only at a read's completion.
        fireReadComplete(context: context)
    }

    /// The answer went out whole (or ended with an SSE error): end it, count it, take what waited.
    private func finish(_ relay: Relay, outcome: EndpointPool.Outcome, context: ChannelHandlerContext) {
        self.relay = nil
        core.ended(relay.decode, outcome)
        if relay.plan.keepAlive {
            context.write(wrapOutboundOut(.end(nil)), promise: nil)
            upstreams.flusher.flushSoon(context.channel)
            drainQueue(context: context)
        } else {
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    private func release(_ relay: Relay) {
        guard let connection = relay.connection else { return }
        relay.connection = nil
        upstreams.release(connection)
    }

    private func answerHeaders(_ relay: Relay, contentType: String) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.reserveCapacity(6)
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "X-Request-Id", value: relay.plan.requestId)
        headers.add(name: "X-Baton-Route", value: "local")
        headers.add(name: "X-Baton-Decode", value: relay.plan.endpoint.url)
        if !relay.plan.keepAlive { headers.add(name: "Connection", value: "close") }
        return headers
    }

    private func firstByte(_ relay: Relay, status: Int) {
        core.metrics.request(path: "local", code: status)
        guard (200..<300).contains(status) else { return }
        let ttft = NIODeadline.now() - relay.plan.received
        core.metrics.firstByte(path: "local", ttft: .nanoseconds(ttft.nanoseconds), overhead: .nanoseconds((ttft - relay.waited).nanoseconds))
    }
}

struct UpstreamTimeout: Error, CustomStringConvertible {
    var description: String { "the decode call timed out" }
}
