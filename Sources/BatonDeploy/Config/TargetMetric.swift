// What the autoscaler measures per replica (a pool's `target_metric`).

/// What the autoscaler measures per replica.
public enum TargetMetric: String, Sendable, Equatable, CaseIterable {
    /// Requests in flight (Ray Serve's only signal); target `target_ongoing_requests`.
    case ongoingRequests = "ongoing_requests"
    /// Prompt tokens waiting to be prefilled: the signal that fits a prefill pool.
    case queuedPromptTokens = "queued_prompt_tokens"
    /// Fraction (0…1) of KV blocks in use: the signal that fits a decode pool.
    case kvCacheUsage = "kv_cache_usage"

    /// The target per replica when `target_value` is absent.
    public var defaultTarget: Double {
        switch self {
        case .ongoingRequests: 2
        case .queuedPromptTokens: 2048
        case .kvCacheUsage: 0.7
        }
    }
}
