// The fast lane's decision (FastLane.swift): the body decoded, the prompt tokenized and
// `RoutingState.decide` asked, once; the engine request for a local path taken by choice, or
// the handoff that carries all of it to the slow path.

import BatonHTTP
import BatonOpenAI
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

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
        /// What Hummingbird gets with it if the decode fails: the body decoded, the tokens made.
        var kind: RequestKind
        var body: ProxyBody
        var routing: RoutingRequest
        /// Why the decider took the local path (the lane counted it, and `.noPrefillPool` in
        /// `splitsWithoutPrefill`).
        var reason: DecisionReason
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

        /// For the slow path once the decode failed before its first byte: it decides again, as
        /// a retry (the lane counted the decision).
        var handoff: Handoff {
            Handoff(
                kind: kind, body: body, routing: routing, decided: nil, received: received,
                countedWithoutPrefill: reason == .noPrefillPool)
        }
    }

    enum Decided {
        /// The local path by choice: relayed here.
        case relay(Plan)
        /// For the slow path, with what was done (nil: nothing; it reads the request itself).
        case handOver(Handoff?)
    }

    /// Decodes, tokenizes and decides a request read whole.
    func decide(_ head: HTTPRequestHead, kind: RequestKind, body: ByteBuffer) -> Decided {
        let received = NIODeadline.now()
        let config = core.config
        if !shared.apiKeys.isEmpty {
            guard let auth = head.headers.first(name: "authorization"), auth.hasPrefix("Bearer "),
                  APIKeys.matchesAny(Array(auth.utf8.dropFirst(7)), shared.apiKeys)
            else { return .handOver(nil) }  // Hummingbird answers 401
        }
        // A bad body or prompt: Hummingbird answers the 400.
        guard let proxyBody = try? ProxyBody(Data(buffer: body, byteTransferStrategy: .noCopy), decoder: loop.decoder),
              let source = try? proxyBody.prompt.source(kind) else { return .handOver(nil) }
        let session = head.headers.first(name: config.sessionHeader) ?? proxyBody.user
        let routing: RoutingRequest
        do {
            let tokens = try shared.tokenizer.tokensNow(source, cache: &loop.tokenCache)
            routing = RoutingRequest(tokens: tokens, blockSize: config.blockSize, salt: proxyBody.cacheSalt, session: session)
        } catch {
            core.logger.warning("tokenizing failed; routing by load", metadata: ["error": "\(error)"])
            routing = .byLoad(proxyBody, session: session)
        }
        // Decided and counted in flight under one lock; its gauges are set from the same snapshot.
        let (decided, member) = core.state.withLock { s -> ((decision: Decision, heldBlocks: Int), EndpointPool.Member?) in
            let decided = s.decide(routing)
            guard case .local(let d, _, false) = decided.decision else { return (decided, nil) }
            return (decided, s.pool.members[d])
        }
        guard case .local(let decode, let reason, false) = decided.decision, let member, !proxyBody.hadTransferParams else {
            // Splits, fallbacks, rejections, and a body to strip first: the slow path carries
            // the decision out.
            return .handOver(Handoff(kind: kind, body: proxyBody, routing: routing, decided: decided, received: received))
        }
        let endpoint = member.endpoint
        core.metrics.prefix(hit: decided.heldBlocks, of: routing.blockHashes.count)
        core.metrics.decision(path: "local", reason: reason)
        core.metrics.fastLane.increment()
        core.metrics.endpoint(decode, member)

        let requestId: String, madeRequestId: Bool
        if let given = head.headers.first(name: "x-request-id"), !given.isEmpty, given.count <= 256 {
            (requestId, madeRequestId) = (given, false)
        } else {
            (requestId, madeRequestId) = (loop.newRequestId(), true)
        }
        var headers = HTTPHeaders()
        headers.reserveCapacity(5)
        headers.add(name: "Host", value: endpoint.hostHeader)
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        headers.add(name: "X-Request-Id", value: requestId)
        if let auth = core.upstream.authorization ?? head.headers.first(name: "authorization") {
            headers.add(name: "Authorization", value: auth)
        }
        return .relay(Plan(
            requestId: requestId, decode: decode, endpoint: endpoint, stream: proxyBody.stream, keepAlive: head.isKeepAlive,
            upstreamHead: HTTPRequestHead(version: .http1_1, method: .POST, uri: kind.path, headers: headers),
            upstreamBody: body, clientHead: head, clientBody: body, madeRequestId: madeRequestId,
            kind: kind, body: proxyBody, routing: routing, reason: reason, received: received))
    }
}
