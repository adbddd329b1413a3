// How an engine takes part in prefill/decode disaggregation: vLLM's `KVTransferConfig`
// (`kv_connector`, `kv_role`, `engine_id`, `kv_ip`, `kv_port`) and the connector's extra settings
// (lease, heartbeat, secret, what to do when a pull fails). Validated once at the edge.

/// vLLM's `kv_role`.
public enum KVRole: String, Sendable, CaseIterable {
    /// Prefills and holds the prompt's blocks for a remote decoder.
    case producer = "kv_producer"
    /// Pulls a remote prefill's blocks and decodes.
    case consumer = "kv_consumer"
    /// Either, request by request.
    case both = "kv_both"

    public var produces: Bool { self != .consumer }
    public var consumes: Bool { self != .producer }
}

/// What a consumer does when it cannot pull a request's KV (vLLM's `kv_load_failure_policy`).
public enum KVLoadFailurePolicy: String, Sendable, CaseIterable {
    /// Prefill locally; the answer is still right, only slower.
    case recompute
    /// Answer with an error.
    case fail
}

public struct KVTransferConfig: Sendable, Equatable {
    public var role: KVRole
    /// This engine's id in `kv_transfer_params.remote_engine_id`.
    public var engineId: String
    /// Address and port of the KV transfer server (producers listen there; it is what
    /// consumers are told to pull from).
    public var host: String
    public var port: Int
    /// Seconds a producer holds a finished prefill's blocks without hearing from a consumer.
    public var leaseSeconds: Double
    /// Seconds between a consumer's heartbeats while it waits for or pulls a request's blocks.
    public var heartbeatSeconds: Double
    /// Shared by every engine of an app; peers prove they know it (HMAC challenge).
    public var secret: String
    public var loadFailurePolicy: KVLoadFailurePolicy

    public init(
        role: KVRole, engineId: String, host: String = "127.0.0.1", port: Int = 14579, leaseSeconds: Double = 30,
        heartbeatSeconds: Double = 5, secret: String = "", loadFailurePolicy: KVLoadFailurePolicy = .recompute
    ) {
        self.role = role
        self.engineId = engineId
        self.host = host
        self.port = port
        self.leaseSeconds = leaseSeconds
        self.heartbeatSeconds = heartbeatSeconds
        self.secret = secret
        self.loadFailurePolicy = loadFailurePolicy
    }
}
