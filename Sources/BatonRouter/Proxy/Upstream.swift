// HTTP to the engines over one AsyncHTTPClient pool: the two proxy calls, health checks and
// metrics scrapes (and a second client for resends alone, `execute`). No redirects, no
// decompression: bytes are relayed as the engine sent them.

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

public struct Upstream: Sendable {
    let client: HTTPClient
    /// Resends only (`execute`): each asks `Connection: close`, so this client keeps no idle
    /// connection and a resend always goes on a new one.
    let resendClient: HTTPClient
    /// `Bearer KEY` for the engines, when they want a key of their own.
    let authorization: String?

    /// Its clients' pools keep up to `connectionsPerEndpoint` connections to each engine.
    /// `shutdown()` once done.
    public init(timeouts: RouterTimeouts, connectionsPerEndpoint: Int, apiKey: String? = nil) {
        client = Self.makeClient(timeouts: timeouts, connectionsPerEndpoint: connectionsPerEndpoint)
        resendClient = Self.makeClient(timeouts: timeouts, connectionsPerEndpoint: connectionsPerEndpoint)
        authorization = apiKey.map { "Bearer \($0)" }
    }

    public func shutdown() async throws {
        try await client.shutdown()
        try await resendClient.shutdown()
    }

    private static func makeClient(timeouts: RouterTimeouts, connectionsPerEndpoint: Int) -> HTTPClient {
        var config = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .nanoseconds(timeouts.connect.nanoseconds), read: nil),
            decompression: .disabled)
        config.connectionPool = .init(
            idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(8, connectionsPerEndpoint))
        config.httpVersion = .http1Only
        // A refused connection is an answer: fail at once and let the router try elsewhere,
        // rather than retrying until the connect timeout.
        config.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
    }

    /// POSTs JSON; the response's body has not been read yet.
    func post(
        _ endpoint: Endpoint, path: String, body: Data, requestId: String, authorization: String?, timeout: Duration
    ) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: endpoint.url + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "X-Request-Id", value: requestId)
        if let auth = self.authorization ?? authorization { request.headers.add(name: "Authorization", value: auth) }
        request.body = .bytes(ByteBuffer(bytes: body))
        return try await execute(request, timeout: timeout)
    }

    /// GETs a small body (`/health`, `/metrics`, `/v1/models`).
    func get(_ endpoint: Endpoint, path: String, timeout: Duration, limit: Int = 1 << 20) async throws -> (status: Int, body: ByteBuffer) {
        var request = HTTPClientRequest(url: endpoint.url + path)
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        let response = try await execute(request, timeout: timeout)
        let body = try await response.body.collect(upTo: limit)
        return (Int(response.status.code), body)
    }

    /// Sends `request` once more, on a new connection, when the engine closed the kept-alive
    /// connection it went out on before answering: an engine closes idle connections (uvicorn in
    /// front of vLLM after 5 s, sooner than the pool lets them go), and one that closes as the
    /// request arrives never read it. Not the engine's failure, so not counted as one; a second
    /// close is (an engine that died mid-request refuses the new connection, and that counts).
    /// Not on another pooled one: the engine may be closing those too (uvicorn closes connections
    /// idle since the same burst at once).
    /// nginx does the same for its cached upstream connections; the fast lane does it too.
    /// Any other failure (a malformed answer, a timeout) is the engine's at once.
    private func execute(_ request: HTTPClientRequest, timeout: Duration) async throws -> HTTPClientResponse {
        let deadline = NIODeadline.now() + .nanoseconds(timeout.nanoseconds)
        do {
            return try await client.execute(request, deadline: deadline)
        } catch where Self.closedUnderRequest(error) && !Task.isCancelled {
            var again = request
            again.headers.replaceOrAdd(name: "Connection", value: "close")
            return try await resendClient.execute(again, deadline: deadline)
        }
    }

    /// The connection closed before any answer: a FIN (AsyncHTTPClient's remoteConnectionClosed,
    /// the fast lane's UpstreamClosed), or a reset when the engine closed with the request unread
    /// in its socket. The slow path and the fast lane send the request again on these alone.
    static func closedUnderRequest(_ error: any Error) -> Bool {
        if error is UpstreamClosed { return true }
        if let error = error as? HTTPClientError { return error == .remoteConnectionClosed }
        if let error = error as? IOError { return error.errnoCode == ECONNRESET || error.errnoCode == EPIPE }
        return false
    }
}
