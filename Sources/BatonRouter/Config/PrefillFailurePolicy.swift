// What the router does when every prefill try failed (RouterConfig.prefillFailure).

/// What the router does when every prefill try failed.
public enum PrefillFailurePolicy: String, Sendable, Codable, CaseIterable {
    /// Send the request down the local path (the decode prefills it) if the decode's waiting
    /// queue is under `localFallbackMaxWaiting`; else 503.
    case local
    /// 503 with Retry-After.
    case fail
}
