// Ray Serve's `LLMConfig` as Baton reads it: the model, the engine's settings, and how many
// replicas of it run. Defaults are Ray Serve's (and vLLM's where Baton's engine has the same knob).

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
