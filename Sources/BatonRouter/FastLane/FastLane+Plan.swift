// The fast lane's decision (FastLane.swift): the body's routing fields, the tokenizer and
// `decideLocal`, and the engine request for a local path taken by choice.

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
    func plan(_ head: HTTPRequestHead, kind: RequestKind, body: ByteBuffer) -> Plan? {
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
