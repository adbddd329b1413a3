// The decode call (or the local path's only call), relayed to the client as it arrives. A
// decode that fails before its first byte is retried on another decode with the same body (the
// prefill's lease still holds its blocks); after that, a failure ends the stream with an SSE
// error event and [DONE], never a hang. The route headers, the error event and the first-byte
// metrics are the fast lane's too (RelayPolicy.swift).

import AsyncHTTPClient
import BatonOpenAI
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

extension ProxyHandler {
    /// The upstream body's iterator, handed from the handler to the response writer.
    final class BodyIterator: @unchecked Sendable {
        var iterator: HTTPClientResponse.Body.AsyncIterator
        init(_ iterator: HTTPClientResponse.Body.AsyncIterator) { self.iterator = iterator }
    }

    func relay(
        _ call: Call, bytes: Data, decode first: Int, path: String, fallback: Bool, prefill: Endpoint? = nil, group: Int? = nil
    ) async throws -> Response {
        var tried: Set<Int> = [first]
        var d = first, attempts = 1
        while true {
            let endpoint = core.endpoint(d)
            do {
                if var response = try await attempt(call, bytes: bytes, decode: d, endpoint: endpoint, path: path, fallback: fallback) {
                    RouteHeaders(route: path, decode: endpoint, prefill: prefill).add(to: &response.headers)
                    return response
                }
            } catch {
                if Task.isCancelled {
                    core.ended(d, .neutral, fallback: fallback)
                    throw CancellationError()
                }
                core.ended(d, .failure("decode call failed: \(error)"), fallback: fallback)
            }
            guard attempts < config.decodeTries,
                  let next = try await waitingForDecode(
                      { _ in core.state.withLock { $0.nextDecode(call.routing, excluding: tried, fallback: fallback, group: group) } },
                      until: { $0 != nil }) else {
                let error = APIError.unavailable("No decode endpoint could take the request.", retryAfter: config.retryAfterSeconds)
                core.metrics.request(path: path, code: error.status)
                throw error
            }
            core.metrics.retry(role: .decode)
            core.started([next])
            tried.insert(next)
            attempts += 1
            d = next
        }
    }

    /// One decode try: the response for the client, or nil after a failure that was the
    /// endpoint's (already counted against it).
    private func attempt(
        _ call: Call, bytes: Data, decode d: Int, endpoint: Endpoint, path: String, fallback: Bool
    ) async throws -> Response? {
        let response = try await call.clock.waiting {
            try await core.upstream.post(
                endpoint, path: call.kind.path, body: bytes, requestId: call.requestId,
                authorization: call.authorization, timeout: config.timeouts.request)
        }
        let status = Int(response.status.code)
        let contentType = response.headers.first(name: "content-type") ?? "application/json"
        if status >= 500 {
            core.ended(d, .failure("HTTP \(status) from the decode"), fallback: fallback)
            return nil
        }
        guard (200..<300).contains(status), call.body.stream else {
            let whole = try await call.clock.waiting { try await response.body.collect(upTo: 64 << 20) }
            core.ended(d, (200..<300).contains(status) ? .success : .neutral, fallback: fallback)
            firstByte(call, path: path, status: status)
            return Response(status: .init(code: status), headers: [.contentType: contentType], body: .init(byteBuffer: whole))
        }
        let body = BodyIterator(response.body.makeAsyncIterator())
        guard let head = try await call.clock.waiting({ try await body.iterator.next() }) else {
            core.ended(d, .failure("the decode's stream ended before its first byte"), fallback: fallback)
            return nil
        }
        firstByte(call, path: path, status: status)
        if fallback { core.fallbackPrefilled(d) }
        let router = core
        return Response(
            status: .ok, headers: [.contentType: contentType, .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                var outcome = EndpointPool.Outcome.success
                defer { router.ended(d, outcome) }
                do {
                    try await writer.write(head)
                } catch {
                    outcome = .neutral
                    throw error
                }
                while true {
                    let chunk: ByteBuffer?
                    do {
                        chunk = try await body.iterator.next()
                    } catch {
                        // Cancelled: the router is shutting down, not the decode failing.
                        outcome = Task.isCancelled ? .neutral : .failure("the decode's stream broke: \(error)")
                        router.logger.warning("decode stream broke", metadata: ["request_id": "\(call.requestId)", "error": "\(error)"])
                        try? await writer.write(RelayPolicy.streamError)
                        try await writer.finish(nil)
                        return
                    }
                    guard let chunk else { break }
                    do {
                        try await writer.write(chunk)
                    } catch {
                        outcome = .neutral  // the client went away; dropping the iterator cancels the decode
                        throw error
                    }
                }
                try await writer.finish(nil)
            })
    }

    private func firstByte(_ call: Call, path: String, status: Int) {
        core.metrics.firstByte(path: path, status: status, received: call.clock.start, waited: call.clock.upstream)
    }
}
