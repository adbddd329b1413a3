// The engine server's settings (`baton engine` flags), validated once at the edge.

import BatonEngine

public struct ServerConfig: Sendable {
    public var host: String
    public var port: Int
    /// Name in `/v1/models` and the `model` field; requests naming another model get 404.
    public var servedModelName: String
    /// When set, `/v1/*` and the tokenizer routes need `Authorization: Bearer <key>`.
    public var apiKey: String?
    /// Largest request body accepted (413 beyond).
    public var maxBodyBytes: Int
    /// Seconds suggested in Retry-After when the queue is full.
    public var retryAfterSeconds: Int
    /// Seconds running requests get to finish after SIGTERM before they are aborted.
    public var shutdownTimeoutSeconds: Double
    /// Seconds after which a connection with no request, or whose request stopped arriving, is
    /// closed (uvicorn's timeout_keep_alive under vLLM); nil: never. Longer than the router's
    /// pool keeps an idle engine connection (60 s), so the router, not the engine, closes those:
    /// a request sent just as the engine closed would count against a healthy engine.
    public var idleTimeoutSeconds: Double?

    public init(
        host: String = "127.0.0.1", port: Int = 8000, servedModelName: String, apiKey: String? = nil,
        maxBodyBytes: Int = 4 << 20, retryAfterSeconds: Int = 1, shutdownTimeoutSeconds: Double = 30, idleTimeoutSeconds: Double? = 75
    ) {
        self.host = host
        self.port = port
        self.servedModelName = servedModelName
        self.apiKey = apiKey
        self.maxBodyBytes = maxBodyBytes
        self.retryAfterSeconds = retryAfterSeconds
        self.shutdownTimeoutSeconds = shutdownTimeoutSeconds
        self.idleTimeoutSeconds = idleTimeoutSeconds
    }
}
