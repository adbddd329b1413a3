// How an engine takes part in prefill/decode disaggregation: vLLM's `KVTransferConfig`
// (`kv_connector`, `kv_role`, `engine_id`, `kv_ip`, `kv_port`) and the connector's extra settings
// (lease, heartbeat, secret, what to do when a pull fails). vLLM's config vocabulary, so it lives
// beside `KVTransferParams`: the engine (`--kv-transfer-config`), the KV transfer and a Ray Serve
// app config (`engine_kwargs.kv_transfer_config`) all read this one type. Validated once at the edge.

public struct KVTransferConfig: Sendable, Equatable {
    /// vLLM's `kv_connector` as named. Baton moves blocks with its own transfer whichever it
    /// names; the engine's parser accepts `BatonConnector` and `NixlConnector`, an app config any.
    public var connector: String
    public var role: KVRole
    /// This engine's id in `kv_transfer_params.remote_engine_id` (empty: not chosen yet; the
    /// engine's parser picks a UUID, an app's supervisor names each replica).
    public var engineId: String
    /// Address and port of the KV transfer server (producers listen there; it is what
    /// consumers are told to pull from).
    public var host: String
    public var port: Int
    /// Seconds a producer holds a finished prefill's blocks without hearing from a consumer.
    public var leaseSeconds: Double
    /// Seconds between a consumer's heartbeats while it waits for or pulls a request's blocks.
    public var heartbeatSeconds: Double
    /// Shared by every engine of an app; peers prove they know it (HMAC challenge). Required
    /// when the KV server listens beyond loopback (`secretCheck()`).
    public var secret: String
    public var loadFailurePolicy: KVLoadFailurePolicy

    public init(
        connector: String = "BatonConnector", role: KVRole = .both, engineId: String = "", host: String = "127.0.0.1",
        port: Int = 14579, leaseSeconds: Double = 30, heartbeatSeconds: Double = 5, secret: String = "",
        loadFailurePolicy: KVLoadFailurePolicy = .recompute
    ) {
        self.connector = connector
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
