// The subset of vLLM's `engine_kwargs` Baton's engine acts on. Defaults are the engine's own.
// `kv_transfer_config` is vLLM's `KVTransferConfig` (BatonOpenAI), the type the engine reads too.

import BatonOpenAI

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
