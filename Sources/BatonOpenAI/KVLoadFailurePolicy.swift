// vLLM's `kv_load_failure_policy`: what a consumer does when it cannot use a request's remote KV.

/// What a consumer does when it cannot pull a request's KV (vLLM's `kv_load_failure_policy`).
public enum KVLoadFailurePolicy: String, Sendable, Equatable, CaseIterable {
    /// Prefill locally; the answer is still right, only slower (logged and counted in
    /// `baton_kv_load_failures_total{reason}`).
    case recompute
    /// Answer with an error.
    case fail
}
