// Why a request took its path (the reason label of baton_router_decisions_total).

/// Why a request took its path (`baton_router_decisions_total{path, reason}`).
public enum DecisionReason: String, Sendable, CaseIterable {
    case shortPrompt = "short_prompt"
    case cachedPrefix = "cached_prefix"
    case longPrompt = "long_prompt"
    case noPrefillHealthy = "no_prefill_healthy"
    /// No prefill pool at all (a collocated app, or one scaled to 0): local is the path.
    case noPrefillPool = "no_prefill_pool"
    case prefillFailed = "prefill_failed"
    case noDecodeHealthy = "no_decode_healthy"
    case overloaded
}
