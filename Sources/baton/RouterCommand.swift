// `baton router`: one OpenAI endpoint in front of a prefill pool and a decode pool (Baton or
// vLLM engines alike), deciding split or local per request.

import ArgumentParser
import BatonRouter
import Foundation
import Logging

struct RouterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "router", abstract: "Serve one OpenAI endpoint in front of prefill and decode engines.")

    @Option(parsing: .upToNextOption, help: "Prefill engines (http://host:port); repeat or list.") var prefill: [String] = []
    @Option(parsing: .upToNextOption, help: "Decode engines (http://host:port); repeat or list.") var decode: [String] = []
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 8000
    @Option(help: "Require 'Authorization: Bearer KEY'; repeat for several (default: $BATON_API_KEY).") var apiKey: [String] = []
    @Option(help: "Key the engines want (default: $BATON_UPSTREAM_API_KEY; else the client's Authorization is forwarded).")
    var upstreamApiKey: String?
    @Option(help: "Prompt tokenizer: smollm2, a GGUF path, or remote (the engines' /tokenize).") var tokenizer = "remote"
    @Option(help: "The engines' KV block size in tokens.") var blockSize = 16
    @Option(help: "Uncached prompt tokens from which a request is split (default \(RouterConfig.defaultSplitThreshold), measured in docs/router.md).")
    var splitThreshold = RouterConfig.defaultSplitThreshold
    @Option(help: "Header naming a session (the body's 'user' otherwise).") var sessionHeader = "x-session-id"
    @Option(help: "When every prefill try fails: local (the decode prefills, while its queue allows) or fail (503).")
    var prefillFailure = "local"
    @Option(help: "Local fallback only while the decode's waiting queue is under this.") var localFallbackMaxWaiting = 4
    @Option(help: "Prefill calls per request before the fallback (untried endpoints first).") var prefillTries = 3
    @Option(help: "Decode calls per request before its first byte (untried endpoints first).") var decodeTries = 3
    @Option(help: "Requests in flight per endpoint before it counts as overloaded (all overloaded: 429).") var maxInFlight = 256
    @Option(help: "Score weight: prompt blocks an endpoint probably holds.") var prefixWeight = 2.0
    @Option(help: "Score weight: low load (queue, KV usage).") var loadWeight = 1.0
    @Option(help: "Score weight: the session's endpoint.") var sessionWeight = 4.0
    @Option(help: "Seconds: connect to an engine.") var connectTimeout = 2.0
    @Option(help: "Seconds: the whole prefill call.") var prefillTimeout = 60.0
    @Option(help: "Seconds: the whole decode call.") var requestTimeout = 600.0
    @Option(help: "Seconds: close a client connection with no request for this long, or whose request stopped arriving for this long while nothing is answered on it (0: never).")
    var idleTimeout = 60.0
    @Option(help: "Seconds between health checks of each endpoint.") var healthInterval = 1.0
    @Option(help: "Seconds between load scrapes of each endpoint's /metrics.") var scrapeInterval = 1.0
    @Option(help: "Seconds a request waits before its 503 for a decode to come back when none is up, or, when no prefill can take it, for room on the decode's queue (0: at once).")
    var waitForDecode = 0.0
    @Option(help: "Largest request body in bytes.") var maxBodyBytes = 4 << 20
    @Option(help: "Seconds streams in flight get after SIGTERM.") var shutdownTimeout = 30.0
    @Flag(help: "Send every request through the general handler (Hummingbird and AsyncHTTPClient) instead of serving the local path on the connection's event loop.")
    var noFastLane = false

    func config() throws -> RouterConfig {
        var c = RouterConfig(prefill: prefill.flatMap(Self.list), decode: decode.flatMap(Self.list))
        c.host = host
        c.port = port
        c.apiKeys = apiKey.isEmpty ? (ProcessInfo.processInfo.environment["BATON_API_KEY"].map { [$0] } ?? []) : apiKey
        c.upstreamAPIKey = upstreamApiKey ?? ProcessInfo.processInfo.environment["BATON_UPSTREAM_API_KEY"]
        c.blockSize = blockSize
        c.splitThreshold = splitThreshold
        c.sessionHeader = sessionHeader
        guard let policy = PrefillFailurePolicy(rawValue: prefillFailure) else {
            throw ValidationError("--prefill-failure must be local or fail (got '\(prefillFailure)')")
        }
        c.prefillFailure = policy
        c.localFallbackMaxWaiting = localFallbackMaxWaiting
        c.prefillTries = prefillTries
        c.decodeTries = decodeTries
        c.maxInFlightPerEndpoint = maxInFlight
        c.weights = ScoreWeights(prefix: prefixWeight, load: loadWeight, session: sessionWeight)
        c.timeouts.connect = try Self.seconds(connectTimeout, "--connect-timeout")
        c.timeouts.prefill = try Self.seconds(prefillTimeout, "--prefill-timeout")
        c.timeouts.request = try Self.seconds(requestTimeout, "--request-timeout")
        c.timeouts.idle = idleTimeout == 0 ? nil : try Self.seconds(idleTimeout, "--idle-timeout")
        c.health.checkInterval = try Self.seconds(healthInterval, "--health-interval")
        c.health.scrapeInterval = try Self.seconds(scrapeInterval, "--scrape-interval")
        c.maxBodyBytes = maxBodyBytes
        c.fastLane = !noFastLane
        guard waitForDecode >= 0, waitForDecode < 1e6 else { throw ValidationError("--wait-for-decode must be 0 or a positive number of seconds") }
        c.waitForDecode = .milliseconds(Int64(waitForDecode * 1000))
        guard (1...65535).contains(port) else { throw ValidationError("--port must be in 1...65535") }
        let problems = c.problems()
        guard problems.isEmpty else { throw ValidationError(problems.joined(separator: "; ")) }
        return c
    }

    func validate() throws { _ = try config() }

    static func list(_ text: String) -> [String] { text.split(separator: ",").map { String($0) } }

    static func seconds(_ value: Double, _ name: String) throws -> Duration {
        guard value > 0, value < 1e6 else { throw ValidationError("\(name) must be a positive number of seconds") }
        return .milliseconds(Int64(value * 1000))
    }

    func run() async throws {
        var logger = Logger(label: "baton.router")
        logger.logLevel = .info
        var config = try config()
        config.tokenizer = tokenizer == "remote" ? .remote : .gguf(path: try ModelStore.fromEnvironment().resolve(tokenizer))
        logger.info("router on \(host):\(port): prefill \(config.prefill), decode \(config.decode), split from \(config.splitThreshold) uncached tokens, tokenizer \(tokenizer)")
        try await RouterServer.run(config: config, logger: logger, shutdownTimeout: try Self.seconds(max(shutdownTimeout, 0.001), "--shutdown-timeout"))
    }
}
