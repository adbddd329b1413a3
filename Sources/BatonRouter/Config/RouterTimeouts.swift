// The router's timeouts (RouterConfig.timeouts), with their defaults.

public struct RouterTimeouts: Sendable, Equatable {
    /// TCP connect to an engine.
    public var connect: Duration = .seconds(2)
    /// The whole prefill call; past it the prefill counts as failed.
    public var prefill: Duration = .seconds(60)
    /// The whole decode call (a streaming answer included).
    public var request: Duration = .seconds(600)
    /// A client connection with no request for this long, or whose request stopped arriving for
    /// this long while nothing is answered on it, is closed (nginx: keepalive_timeout 75 s,
    /// client_header_timeout 60 s). nil: never.
    public var idle: Duration? = .seconds(60)
    /// One `/health` or `/metrics` call.
    public var healthCheck: Duration = .seconds(2)

    public init() {}
}
