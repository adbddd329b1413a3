// The router's settings (`baton router` flags, or `router:` in an app YAML), validated once at
// the edge. Defaults are documented beside each field.

public enum EndpointRole: String, Sendable, Codable, CaseIterable {
    case prefill, decode
}

/// What the router does when every prefill try failed.
public enum PrefillFailurePolicy: String, Sendable, Codable, CaseIterable {
    /// Send the request down the local path (the decode prefills it) if the decode's waiting
    /// queue is under `localFallbackMaxWaiting`; else 503.
    case local
    /// 503 with Retry-After.
    case fail
}

/// Where prompt token ids come from.
public enum TokenizerSource: Sendable, Equatable {
    /// A GGUF file's tokenizer and chat template, loaded into the router.
    case gguf(path: String)
    /// The engines' `/tokenize` (one round trip per request), for models Baton cannot load.
    case remote
}

/// Weights of the three scores (each in 0…1) an endpoint is ranked by.
public struct ScoreWeights: Sendable, Equatable {
    /// Fraction of the prompt's blocks the endpoint probably holds.
    public var prefix: Double = 2
    /// 1 for the least loaded candidate, 0 for the most (queue and KV usage).
    public var load: Double = 1
    /// 1 for the endpoint the session last used.
    public var session: Double = 4

    public init(prefix: Double = 2, load: Double = 1, session: Double = 4) {
        self.prefix = prefix
        self.load = load
        self.session = session
    }
}

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

public struct HealthSettings: Sendable, Equatable {
    /// How often every endpoint's `/health` is checked.
    public var checkInterval: Duration = .seconds(1)
    /// How often every endpoint's `/metrics` is scraped for its load.
    public var scrapeInterval: Duration = .seconds(1)
    /// An ejected endpoint waits this long before its first half-open probe, doubling per
    /// failed probe up to `maxBackoff`.
    public var baseBackoff: Duration = .milliseconds(500)
    public var maxBackoff: Duration = .seconds(30)

    public init() {}
}

public struct RouterConfig: Sendable {
    public var host: String = "127.0.0.1"
    public var port: Int = 8000
    public var prefill: [String]
    public var decode: [String]
    /// `Authorization: Bearer` keys; empty = no auth.
    public var apiKeys: [String] = []
    /// The key the engines want, sent on every call to them (the client's Authorization header
    /// is forwarded when this is nil).
    public var upstreamAPIKey: String?
    public var tokenizer: TokenizerSource = .remote
    /// The engines' KV block size (tokens), for the router's block hashes.
    public var blockSize: Int = 16
    /// Prompt tokens the chosen decode would not find cached below which the request is not
    /// split (see docs/router.md for the measurement behind the default).
    public var splitThreshold: Int = RouterConfig.defaultSplitThreshold
    /// Header naming a session; the body's `user` is used when it is absent.
    public var sessionHeader: String = "x-session-id"
    public var weights = ScoreWeights()
    public var timeouts = RouterTimeouts()
    public var health = HealthSettings()
    public var prefillFailure: PrefillFailurePolicy = .local
    /// The local fallback is taken only while the decode's waiting queue (scraped) plus the
    /// router's own local fallbacks in flight there is under this.
    public var localFallbackMaxWaiting: Int = 4
    /// Prefill calls per request before the fallback (untried endpoints first, then any that
    /// is up again).
    public var prefillTries: Int = 3
    /// Decode calls per request before its first byte (likewise).
    public var decodeTries: Int = 3
    /// Requests in flight per endpoint above which it is overloaded (no new requests; all
    /// overloaded = 429).
    public var maxInFlightPerEndpoint: Int = 256
    /// A session stays on its endpoint while that endpoint has fewer requests in flight.
    public var sessionLoadBound: Int = 32
    /// Block hashes remembered per endpoint (LRU).
    public var prefixIndexBlocks: Int = 16384
    /// Sessions remembered (LRU).
    public var maxSessions: Int = 100_000
    public var maxBodyBytes: Int = 4 << 20
    public var retryAfterSeconds: Int = 1
    /// When no decode endpoint is up, a request (or a decode retry) waits up to this long for
    /// one to come back before its 503; so does a split that no prefill could take (none up, or
    /// every try failed) while its decode's queue has no room for a local fallback (under
    /// `prefillFailure: .local`). Zero: answer at once. `baton serve` waits 30 s, since
    /// its supervisor restarts a dead engine within seconds.
    public var waitForDecode: Duration = .zero
    /// Serve the local path's common case on the client connection's event loop (FastLane.swift:
    /// no task, no thread hop, kept-alive engine connections per event loop). False sends every
    /// request through Hummingbird's handler and AsyncHTTPClient (the slow path), as before.
    public var fastLane = true

    /// Measured (docs/router.md, "Split threshold"): from 64 prompt tokens a local prefill
    /// already stalls the decode's other streams (their ITL 33 ms vs 23 ms split, worst gap 301 ms vs
    /// 34 ms), while at 32 the two paths decode alike and the split only adds TTFT.
    public static let defaultSplitThreshold = 64

    public init(prefill: [String], decode: [String]) {
        self.prefill = prefill
        self.decode = decode
    }

    /// Problems with the settings, each naming the setting; empty when valid.
    public func problems() -> [String] {
        var out: [String] = []
        if decode.isEmpty { out.append("decode: at least one decode endpoint is needed") }
        for (name, urls) in [("prefill", prefill), ("decode", decode)] {
            for url in urls where Endpoint.parse(url) == nil {
                out.append("\(name): '\(url)' is not an http://host:port URL")
            }
        }
        if blockSize < 1 || blockSize > 4096 { out.append("block_size: must be 1…4096 (got \(blockSize))") }
        if splitThreshold < 0 { out.append("split_threshold: must be ≥ 0 (got \(splitThreshold))") }
        if prefillTries < 1 { out.append("prefill_tries: must be ≥ 1") }
        if decodeTries < 1 { out.append("decode_tries: must be ≥ 1") }
        if maxInFlightPerEndpoint < 1 { out.append("max_in_flight_per_endpoint: must be ≥ 1") }
        if prefixIndexBlocks < 1 { out.append("prefix_index_blocks: must be ≥ 1") }
        if maxSessions < 1 { out.append("max_sessions: must be ≥ 1") }
        if sessionHeader.isEmpty || sessionHeader.contains(where: { !($0.isLetter || $0.isNumber || "-_".contains($0)) }) {
            out.append("session_header: '\(sessionHeader)' is not a header name")
        }
        if apiKeys.contains(where: \.isEmpty) { out.append("api_key: keys must not be empty") }
        for (name, w) in [("weights.prefix", weights.prefix), ("weights.load", weights.load), ("weights.session", weights.session)]
        where !(w >= 0 && w.isFinite) {
            out.append("\(name): must be a finite number ≥ 0")
        }
        return out
    }
}
