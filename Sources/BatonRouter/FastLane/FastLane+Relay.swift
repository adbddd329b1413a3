// The fast lane's relay (FastLane.swift): the engine call on this event loop's connection and
// its answer to the client part by part, with the failures before and after the first byte.
// Its route headers, SSE error event and first-byte metrics are the slow path's (RelayPolicy.swift).

import BatonOpenAI
import Foundation
import NIOCore
import NIOHTTP1

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
        /// The request went once more, on a new connection, after its connection closed before
        /// any answer (`Upstream.closedUnderRequest`).
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

    func start(_ plan: Plan, context: ChannelHandlerContext) {
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
        // The resend goes on a new connection: the engine may be closing its other idle ones too.
        upstreams.connection(to: relay.plan.endpoint, slot: relay.plan.decode, fresh: relay.retriedStale) { [weak self] result in
            guard let self, self.relay === relay else {
                if case .success(let c) = result { c.channel.close(promise: nil) }
                return
            }
            switch result {
            case .success(let connection):
                relay.connection = connection
                relay.phase = .awaitingHead
                relay.sentAt = .now()
                connection.send(relay.plan.upstreamHead, body: relay.plan.upstreamBody, delegate: self, flusher: self.loop.flusher)
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
        loop.flusher.flushSoon(context.channel)
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
            context.write(wrapOutboundOut(.body(.byteBuffer(RelayPolicy.streamError))), promise: nil)
            finish(relay, outcome: .failure("the decode's stream broke: \(error)"), context: context)
        case .awaitingHead where !relay.retriedStale && Upstream.closedUnderRequest(error):
            // Maybe a kept-alive connection the engine was closing: not the engine's failure.
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
            core.logger.warning("decode stream timed out", metadata: ["request_id": "\(relay.plan.requestId)"])
            context.write(wrapOutboundOut(.body(.byteBuffer(RelayPolicy.streamError))), promise: nil)
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
        state.relayEnded()
        relay.connection = nil
        core.ended(relay.decode, .failure(reason))
        core.metrics.retry(role: .decode)
        handOver(relay.plan.handedOverHead, body: relay.plan.clientBody, handoff: relay.plan.handoff, context: context)
        drainQueue(context: context)
        // Outside a read, Hummingbird's async channel takes parts only at a read's completion.
        fireReadComplete(context: context)
    }

    /// The answer went out whole (or ended with an SSE error): end it, count it, take what waited.
    private func finish(_ relay: Relay, outcome: EndpointPool.Outcome, context: ChannelHandlerContext) {
        self.relay = nil
        state.relayEnded()
        core.ended(relay.decode, outcome)
        if relay.plan.keepAlive {
            context.write(wrapOutboundOut(.end(nil)), promise: nil)
            loop.flusher.flushSoon(context.channel)
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
        RouteHeaders(route: "local", decode: relay.plan.endpoint).add(to: &headers)
        if !relay.plan.keepAlive { headers.add(name: "Connection", value: "close") }
        return headers
    }

    private func firstByte(_ relay: Relay, status: Int) {
        core.metrics.firstByte(path: "local", status: status, received: relay.plan.received, waited: relay.waited)
    }
}
