// Reads the app YAML's `router:` section (Baton's own; Ray Serve has none) into BatonRouter's
// `RouterConfig`, then runs the router's own validation with each problem under `router.`.

import BatonRouter
import Foundation

extension RouterConfig {
    mutating func load(_ cursor: YAMLCursor) throws {
        let map = try cursor.mapping()
        if let v = map.take("host") { host = try v.string() }
        if let v = map.take("port") {
            port = try v.int()
            guard (1...65535).contains(port) else { throw v.fail("must be in 1…65535 (got \(port))") }
        }
        if let v = map.take("api_keys") { apiKeys = try v.sequence().map { try $0.string() } }
        if let v = map.take("upstream_api_key") { upstreamAPIKey = try v.string() }
        if let v = map.take("tokenizer") {
            let spec = try v.string()
            // "remote" asks the engines; anything else is a GGUF path or a model name the CLI resolves.
            tokenizer = spec == "remote" ? .remote : .gguf(path: spec)
        }
        if let v = map.take("split_threshold") { splitThreshold = try v.int(atLeast: 0) }
        if let v = map.take("session_header") { sessionHeader = try v.string() }
        if let v = map.take("prefill_failure") {
            prefillFailure = try v.oneOf(PrefillFailurePolicy.self)
        }
        if let v = map.take("local_fallback_max_waiting") { localFallbackMaxWaiting = try v.int(atLeast: 0) }
        if let v = map.take("prefill_tries") { prefillTries = try v.int(atLeast: 1) }
        if let v = map.take("decode_tries") { decodeTries = try v.int(atLeast: 1) }
        if let v = map.take("max_in_flight_per_endpoint") { maxInFlightPerEndpoint = try v.int(atLeast: 1) }
        if let v = map.take("session_load_bound") { sessionLoadBound = try v.int(atLeast: 1) }
        if let v = map.take("prefix_index_blocks") { prefixIndexBlocks = try v.int(atLeast: 1) }
        if let v = map.take("max_sessions") { maxSessions = try v.int(atLeast: 1) }
        if let v = map.take("max_body_bytes") { maxBodyBytes = try v.int(atLeast: 1024) }
        if let v = map.take("retry_after_seconds") { retryAfterSeconds = try v.int(atLeast: 0) }
        if let v = map.take("wait_for_decode_s") { waitForDecode = try v.seconds(atLeast: 0) }
        if let w = map.take("weights") {
            let wm = try w.mapping()
            if let v = wm.take("prefix") { weights.prefix = try v.double() }
            if let v = wm.take("load") { weights.load = try v.double() }
            if let v = wm.take("session") { weights.session = try v.double() }
            wm.finish()
        }
        if let t = map.take("timeouts") {
            let tm = try t.mapping()
            if let v = tm.take("connect_s") { timeouts.connect = try v.seconds(atLeast: 0.001) }
            if let v = tm.take("prefill_s") { timeouts.prefill = try v.seconds(atLeast: 0.001) }
            if let v = tm.take("request_s") { timeouts.request = try v.seconds(atLeast: 0.001) }
            if let v = tm.take("health_check_s") { timeouts.healthCheck = try v.seconds(atLeast: 0.001) }
            if let v = tm.take("idle_s") {
                let idle = try v.seconds(atLeast: 0)
                timeouts.idle = idle == .zero ? nil : idle
            }
            tm.finish()
        }
        if let h = map.take("health") {
            let hm = try h.mapping()
            if let v = hm.take("check_interval_s") { health.checkInterval = try v.seconds(atLeast: 0.01) }
            if let v = hm.take("scrape_interval_s") { health.scrapeInterval = try v.seconds(atLeast: 0.01) }
            if let v = hm.take("base_backoff_s") { health.baseBackoff = try v.seconds(atLeast: 0.001) }
            if let v = hm.take("max_backoff_s") { health.maxBackoff = try v.seconds(atLeast: 0.001) }
            hm.finish()
        }
        map.finish(reasons: ["block_size": "the engines' engine_kwargs.block_size is used"])

        // The router's own checks, minus the endpoint lists the supervisor fills later. Each
        // problem reads "setting: message"; the setting goes under `router.`.
        var probe = self
        probe.decode = ["http://127.0.0.1:1"]
        probe.prefill = []
        if let problem = probe.problems().first {
            let parts = problem.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            throw parts.count == 2
                ? ConfigError(path: "router.\(parts[0])", message: parts[1])
                : ConfigError(path: "router", message: problem)
        }
    }
}
