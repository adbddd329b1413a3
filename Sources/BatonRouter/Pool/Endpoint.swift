// One engine replica the router sends requests to, and what the router knows of its load.

public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
    /// `http://host:port`, no trailing slash.
    public let url: String
    public let host: String
    public let port: Int
    /// `host:port`, the `Host` header of requests to it (made once, not per request).
    public let hostHeader: String

    init(url: String, host: String, port: Int) {
        self.url = url
        self.host = host
        self.port = port
        hostHeader = "\(host):\(port)"
    }

    /// `http://host:port` (a trailing `/` is dropped); nil for anything else.
    public static func parse(_ text: String) -> Endpoint? {
        var s = Substring(text)
        guard s.hasPrefix("http://") else { return nil }
        s = s.dropFirst(7)
        while s.hasSuffix("/") { s = s.dropLast() }
        guard let colon = s.lastIndex(of: ":"), let port = Int(s[s.index(after: colon)...]), (1...65535).contains(port) else {
            return nil
        }
        let host = String(s[..<colon])
        guard !host.isEmpty, !host.contains("/") else { return nil }
        return Endpoint(url: "http://\(host):\(port)", host: host, port: port)
    }

    public var description: String { url }

    // The URL names the endpoint (host, port and the Host header are made from it): one string
    // hashed per lookup, not three.
    public static func == (a: Endpoint, b: Endpoint) -> Bool { a.url == b.url }
    public func hash(into hasher: inout Hasher) { hasher.combine(url) }
}

/// An engine's load as scraped from its `/metrics`.
public struct EndpointLoad: Sendable, Equatable {
    public var waiting: Int
    public var running: Int
    /// 0…1.
    public var kvUsage: Double
    /// Prompt tokens waiting to be prefilled there (`baton_prompt_tokens_queued`, Baton's
    /// engines only; 0 for vLLM's).
    public var queuedPromptTokens: Int

    public init(waiting: Int, running: Int, kvUsage: Double, queuedPromptTokens: Int = 0) {
        self.waiting = waiting
        self.running = running
        self.kvUsage = kvUsage
        self.queuedPromptTokens = queuedPromptTokens
    }

    /// Reads `vllm:num_requests_waiting`, `vllm:num_requests_running`,
    /// `vllm:kv_cache_usage_perc` and `baton_prompt_tokens_queued` from Prometheus text (summed
    /// over label sets, as a multi-model engine reports one series per model); nil when none of
    /// vLLM's is there.
    public static func parse(prometheusText text: String) -> EndpointLoad? {
        var waiting = 0.0, running = 0.0, usage = 0.0, queued = 0.0, seen = false
        for line in text.split(separator: "\n") where line.hasPrefix("vllm:") || line.hasPrefix("baton_prompt_tokens_queued") {
            let name = line.prefix { $0 != "{" && $0 != " " }
            guard let valueText = line.split(separator: " ").last, let value = Double(valueText), value.isFinite else { continue }
            switch name {
            case "vllm:num_requests_waiting": waiting += value; seen = true
            case "vllm:num_requests_running": running += value; seen = true
            case "vllm:kv_cache_usage_perc": usage = max(usage, value); seen = true
            case "baton_prompt_tokens_queued": queued += value
            default: break
            }
        }
        guard seen else { return nil }
        return EndpointLoad(
            waiting: Int(min(max(waiting, 0), 1e9)), running: Int(min(max(running, 0), 1e9)), kvUsage: min(max(usage, 0), 1),
            queuedPromptTokens: Int(min(max(queued, 0), 1e12)))
    }
}
