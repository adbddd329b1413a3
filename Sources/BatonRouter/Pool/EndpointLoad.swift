// An engine's load as scraped from its /metrics.

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
