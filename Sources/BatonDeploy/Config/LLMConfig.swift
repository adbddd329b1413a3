// Ray Serve's `LLMConfig` as Baton reads it: the model, the engine's settings, and how many
// replicas of it run. Defaults are Ray Serve's (and vLLM's where Baton's engine has the same knob).
// `kv_transfer_config` is vLLM's `KVTransferConfig` (BatonOpenAI), the type the engine reads too.

import BatonOpenAI

/// `model_loading_config`.
public struct ModelLoadingConfig: Sendable, Equatable {
    /// The name clients use in `"model"`.
    public var modelID: String
    /// What the engines load: `smollm2` (pulled on first use) or a GGUF path. Ray Serve's default
    /// when absent: the `model_id`.
    public var modelSource: String

    public init(modelID: String, modelSource: String? = nil) {
        self.modelID = modelID
        self.modelSource = modelSource ?? modelID
    }
}

/// The subset of vLLM's `engine_kwargs` Baton's engine acts on (the `baton engine` flags of the
/// same names). Nil means the engine's own default.
public struct EngineKwargs: Sendable, Equatable {
    public var maxNumSeqs: Int?
    public var maxNumBatchedTokens: Int?
    public var maxModelLen: Int?
    /// vLLM's default: on.
    public var enablePrefixCaching: Bool = true
    /// Tokens per KV block; the router hashes prompts with the same size. Default 16 (vLLM's).
    public var blockSize: Int = 16
    /// `auto`, `f16` or `f32` (Baton's KV cache types; vLLM's `fp8` is refused).
    public var kvCacheDtype: String = "auto"
    /// vLLM's data parallelism: that many fixed replicas, never autoscaled (as in Ray Serve).
    public var dataParallelSize: Int?
    /// Absent in a `build_openai_app` config; defaulted (NixlConnector, kv_both) for PD apps.
    /// Only `connector` and `role` come from the file; the supervisor sets the rest per replica.
    public var kvTransfer: KVTransferConfig?

    public init() {}
}

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

/// `deployment_config.autoscaling_config`, with Ray Serve's defaults.
public struct AutoscalingConfig: Sendable, Equatable {
    public var minReplicas: Int = 1
    public var maxReplicas: Int = 1
    /// Replicas at start; Ray's default: `min_replicas`.
    public var initialReplicas: Int?
    /// The metric the pool scales on (Baton's addition; Ray scales on ongoing requests only).
    public var targetMetric: TargetMetric = .ongoingRequests
    /// Per-replica target of `targetMetric`: `target_ongoing_requests` (Ray default 2) for
    /// ongoing requests, `target_value` for the others.
    public var target: Double = 2
    /// How long a decision to add replicas must hold before it is applied.
    public var upscaleDelay: Duration = .seconds(30)
    /// How long a decision to remove replicas must hold before it is applied.
    public var downscaleDelay: Duration = .seconds(600)
    /// Scales each upward step (Ray: `current + factor × (raw − current)`).
    public var upscalingFactor: Double = 1
    public var downscalingFactor: Double = 1
    /// The window the metric is averaged over.
    public var lookBackPeriod: Duration = .seconds(30)

    public init() {}

    /// Replicas started first.
    public var startReplicas: Int { initialReplicas ?? minReplicas }
}

/// `deployment_config`, with Ray Serve's defaults.
public struct DeploymentConfig: Sendable, Equatable {
    /// A fixed count; exclusive with `autoscaling`.
    public var numReplicas: Int?
    /// Requests in flight per replica before the router counts it overloaded; nil = the
    /// router's `max_in_flight_per_endpoint`.
    public var maxOngoingRequests: Int?
    public var autoscaling: AutoscalingConfig?
    public var healthCheckPeriod: Duration = .seconds(10)
    public var healthCheckTimeout: Duration = .seconds(30)
    /// Running requests get this long after SIGTERM before the replica is stopped.
    public var gracefulShutdownTimeout: Duration = .seconds(20)

    public init() {}
}

/// How many replicas a pool runs.
public enum ReplicaScaling: Sendable, Equatable {
    case fixed(Int)
    case autoscaled(AutoscalingConfig)

    /// Replicas started first.
    public var startReplicas: Int {
        switch self {
        case .fixed(let n): n
        case .autoscaled(let a): a.startReplicas
        }
    }
}

/// One `LLMConfig`: an engine configuration and its replicas.
public struct LLMConfig: Sendable, Equatable {
    public var model: ModelLoadingConfig
    public var engine = EngineKwargs()
    public var deployment = DeploymentConfig()
    /// `runtime_env.env_vars` passed to each engine process (those for other stacks, such as
    /// `LMCACHE_*`, are reported as ignored and not passed).
    public var envVars: [String: String] = [:]
    /// Resolved from `data_parallel_size`, `num_replicas` and `autoscaling_config`.
    public var scaling: ReplicaScaling = .fixed(1)

    public init(model: ModelLoadingConfig) {
        self.model = model
    }
}
