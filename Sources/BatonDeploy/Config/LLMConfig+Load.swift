// Reads one `LLMConfig` mapping (`prefill_config`, `decode_config` or an `llm_configs[]` entry):
// which keys Baton acts on, which it reports as ignored, and how the replica count resolves.

import BatonOpenAI
import Yams

extension LLMConfig {
    /// `LLMConfig` keys Baton reads but does not act on, with the reason shown.
    static let ignoredKeys: [String: String] = [
        "accelerator_type": "Baton runs on CPU cores",
        "placement_group_config": "each replica is one process pinned to its own core",
        "lora_config": "LoRA adapters are not supported",
        "experimental_configs": "not supported",
        "log_engine_metrics": "engines always serve /metrics",
        "llm_engine": "Baton's engine is the only one",
    ]

    /// `engine_kwargs` (vLLM's engine arguments) Baton knowingly skips; any other unknown one is
    /// reported as "not a Baton engine setting".
    static let ignoredEngineKwargs: [String: String] = [
        "gpu_memory_utilization": "Baton's KV cache is sized in bytes (baton engine --kv-cache-memory)",
        "enable_chunked_prefill": "Baton's engine always chunks prefills",
        "enforce_eager": "no CUDA graphs on CPU",
        "trust_remote_code": "models are GGUF files",
        "dtype": "the GGUF's weight types are used",
        "enable_expert_parallel": "not supported",
        "pipeline_parallel_size": "one engine process per replica",
    ]

    /// Env var prefixes meant for other stacks: not passed to Baton's engines.
    static let ignoredEnvPrefixes = ["LMCACHE_", "UCX_", "NCCL_", "VLLM_", "CUDA_"]

    static func load(_ cursor: YAMLCursor, role: PoolRole) throws -> LLMConfig {
        let map = try cursor.mapping()
        guard let mlc = map.take("model_loading_config") else {
            throw ConfigError(path: cursor.child("model_loading_config"), message: "missing")
        }
        let mlcMap = try mlc.mapping()
        guard let idCursor = mlcMap.take("model_id") else {
            throw ConfigError(path: mlc.child("model_id"), message: "missing")
        }
        let modelID = try idCursor.string()
        guard !modelID.isEmpty else { throw idCursor.fail("must not be empty") }
        let source = try mlcMap.take("model_source")?.string()
        mlcMap.finish(reasons: ["tokenizer_source": "the engine reads the GGUF's tokenizer"])
        var config = LLMConfig(model: ModelLoadingConfig(modelID: modelID, modelSource: source))

        if let kwargs = map.take("engine_kwargs") {
            config.engine = try EngineKwargs.load(kwargs, role: role)
        }
        if role != .both, config.engine.kvTransfer == nil {
            // Ray Serve's PD builder fills the same default when it is absent.
            config.engine.kvTransfer = KVTransferConfig(connector: "NixlConnector")
        }
        if let dc = map.take("deployment_config") {
            config.deployment = try DeploymentConfig.load(dc)
        }
        if let env = map.take("runtime_env") {
            config.envVars = try loadRuntimeEnv(env)
        }
        config.scaling = try resolveScaling(config, cursor: cursor)
        map.finish(reasons: ignoredKeys)
        return config
    }

    static func loadRuntimeEnv(_ cursor: YAMLCursor) throws -> [String: String] {
        let map = try cursor.mapping()
        var out: [String: String] = [:]
        if let vars = map.take("env_vars") {
            let varsMap = try vars.mapping()
            for key in varsMap.keys {
                guard let value = varsMap.take(key) else { continue }
                let text = try value.string()
                if ignoredEnvPrefixes.contains(where: key.hasPrefix) {
                    cursor.ignored.add(value.path, "meant for another serving stack; not passed to the engine")
                } else {
                    out[key] = text
                }
            }
        }
        map.finish(unknown: "only env_vars is used; nothing is installed per replica")
        return out
    }

    /// Fixed or autoscaled, as Ray Serve decides: `data_parallel_size` gives that many fixed
    /// replicas and refuses autoscaling; `num_replicas` and `autoscaling_config` exclude each
    /// other; neither gives one replica.
    static func resolveScaling(_ config: LLMConfig, cursor: YAMLCursor) throws -> ReplicaScaling {
        let dcPath = cursor.child("deployment_config")
        if let dp = config.engine.dataParallelSize {
            if config.deployment.autoscaling != nil {
                throw ConfigError(
                    path: "\(dcPath).autoscaling_config",
                    message: "not supported with engine_kwargs.data_parallel_size \(dp): data parallel replicas are fixed (as in Ray Serve)")
            }
            if let n = config.deployment.numReplicas, n != dp {
                throw ConfigError(
                    path: "\(dcPath).num_replicas",
                    message: "must equal engine_kwargs.data_parallel_size \(dp) (got \(n))")
            }
            return .fixed(dp)
        }
        if let a = config.deployment.autoscaling {
            if config.deployment.numReplicas != nil {
                throw ConfigError(path: "\(dcPath).num_replicas",
                                  message: "not allowed with autoscaling_config (as in Ray Serve)")
            }
            return .autoscaled(a)
        }
        return .fixed(config.deployment.numReplicas ?? 1)
    }
}

extension EngineKwargs {
    static func load(_ cursor: YAMLCursor, role: PoolRole) throws -> EngineKwargs {
        let map = try cursor.mapping()
        var e = EngineKwargs()
        if let v = map.take("max_num_seqs") { e.maxNumSeqs = try v.int(atLeast: 1) }
        if let v = map.take("max_num_batched_tokens") { e.maxNumBatchedTokens = try v.int(atLeast: 1) }
        if let v = map.take("max_model_len") { e.maxModelLen = try v.int(atLeast: 1) }
        if let v = map.take("enable_prefix_caching") { e.enablePrefixCaching = try v.bool() }
        if let v = map.take("block_size") {
            e.blockSize = try v.int(atLeast: 1)
            guard e.blockSize <= 1024 else { throw v.fail("must be ≤ 1024 (got \(e.blockSize))") }
        }
        if let v = map.take("kv_cache_dtype") {
            e.kvCacheDtype = try v.oneOf(["auto", "f16", "f32", "float16", "float32"])
        }
        if let v = map.take("data_parallel_size") { e.dataParallelSize = try v.int(atLeast: 1) }
        if let v = map.take("tensor_parallel_size") {
            // Decided: ignored, not an error. Ray's own PD example sets 2, and a replica here is one
            // engine process on its own core, so there is nothing to split across.
            let tp = try v.int(atLeast: 1)
            if tp > 1 { cursor.ignored.add(v.path, "one engine process per replica; tensor parallelism is not supported") }
        }
        if let v = map.take("kv_transfer_config") {
            if role == .both {
                cursor.ignored.add(v.path, "a build_openai_app pool serves prefill and decode in one engine")
            } else {
                e.kvTransfer = try KVTransferConfig.load(v, role: role)
            }
        }
        map.finish(reasons: LLMConfig.ignoredEngineKwargs, unknown: "not a Baton engine setting")
        return e
    }
}

extension KVTransferConfig {
    static func load(_ cursor: YAMLCursor, role: PoolRole) throws -> KVTransferConfig {
        let map = try cursor.mapping()
        var c = KVTransferConfig(connector: "NixlConnector")
        if let v = map.take("kv_connector") {
            c.connector = try v.string()
            cursor.ignored.add(v.path, "Baton moves KV blocks with its own transfer, whatever the connector")
        }
        if let v = map.take("kv_role") {
            let kvRole = try v.oneOf(KVRole.self)
            if role == .prefill, kvRole == .consumer { throw v.fail("a prefill engine cannot be kv_consumer") }
            if role == .decode, kvRole == .producer { throw v.fail("a decode engine cannot be kv_producer") }
            c.role = kvRole
        }
        map.finish(reasons: [
            "engine_id": "Baton names each replica itself",
            "kv_connector_extra_config": "connector-specific; Baton's transfer needs none",
            "kv_buffer_size": "connector-specific; Baton's transfer needs none",
            "kv_buffer_device": "connector-specific; Baton's transfer needs none",
            "kv_port": "ports are assigned by the supervisor",
            "kv_ip": "ports are assigned by the supervisor",
        ], unknown: "not used by Baton's KV transfer")
        return c
    }
}
