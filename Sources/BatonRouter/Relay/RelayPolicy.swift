// How every answer is marked and measured, on both lanes (the fast lane's relay,
// FastLane+Relay.swift, and the slow path's, ProxyHandler+Relay.swift): the route headers, the
// SSE error event that ends a stream whose decode died, and the first-byte metrics. Each is
// written here and nowhere else.

import BatonOpenAI
import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1

extension HTTPField.Name {
    static let batonRoute = Self("X-Baton-Route")!
    static let batonDecode = Self("X-Baton-Decode")!
    static let batonPrefill = Self("X-Baton-Prefill")!
    /// The fast lane's handoff number (Handoff.swift), never a client's.
    static let batonHandoff = Self(HandoffSlot.header)!
}

/// Where an answer ran: `X-Baton-Route` (split or local), `X-Baton-Decode` and, for a split,
/// `X-Baton-Prefill` (the endpoints' URLs), so a client or a test can see it.
struct RouteHeaders: Sendable, Equatable {
    var route: String
    var decode: Endpoint
    var prefill: Endpoint?

    /// The headers in order: the one list both lanes write.
    func forEach(_ body: (HTTPField.Name, String) -> Void) {
        body(.batonRoute, route)
        body(.batonDecode, decode.url)
        if let prefill { body(.batonPrefill, prefill.url) }
    }

    /// Into the fast lane's NIO head.
    func add(to headers: inout HTTPHeaders) {
        forEach { headers.add(name: $0.rawName, value: $1) }
    }

    /// Into the slow path's Hummingbird response.
    func add(to fields: inout HTTPFields) {
        forEach { fields[$0] = $1 }
    }
}

enum RelayPolicy {
    /// An SSE error event and the end of the stream, for a decode that failed after the first
    /// byte went out (the status line is sent; the stream must still end, never hang). The same
    /// bytes whichever lane relayed and however the decode failed; the cause goes to the log.
    static let streamError: ByteBuffer = {
        let body = APIError(
            status: 502, message: "The decode engine failed while streaming the answer.", type: "server_error",
            code: "upstream_stream_broken").body
        let json = (try? JSONEncoder().encode(body)).map { String(decoding: $0, as: UTF8.self) } ?? "{\"error\":{\"message\":\"upstream failed\"}}"
        return ByteBuffer(string: "data: \(json)\n\ndata: [DONE]\n\n")
    }()
}

extension RouterMetrics {
    /// An answer's first byte went out: counted by path and status, and, for a 2xx, its time
    /// since the request was taken up (`received`: before it was decoded, tokenized and decided)
    /// and the part of it not spent waiting on engines (`waited`), the router's own.
    func firstByte(path: String, status: Int, received: NIODeadline, waited: TimeAmount) {
        request(path: path, code: status)
        guard (200..<300).contains(status) else { return }
        let ttft = NIODeadline.now() - received
        self.ttft[path]?.record(Double(ttft.nanoseconds) / 1e9)
        overhead.record(Double((ttft - waited).nanoseconds) / 1e9)
    }
}
