// The router's settings (`baton router` flags, or `router:` in an app YAML), validated once at
// the edge. Defaults are documented beside each field.

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
