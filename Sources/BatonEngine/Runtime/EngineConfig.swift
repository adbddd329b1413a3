// The engine's configuration, as the CLI and the app config set it.

import BatonModel
import BatonOpenAI

public struct EngineConfig: Sendable {
    public var scheduler: SchedulerConfig
    /// Tokens per KV block.
    public var blockSize: Int
    /// Blocks in the pool.
    public var blockCount: Int
    public var enablePrefixCaching: Bool
    /// K/V element type.
    public var kvCacheDType: KVCacheDType
    /// Name under which the model is served and labelled in metrics.
    public var servedModelName: String
    /// Its part in prefill/decode disaggregation; nil: none (`kv_transfer_params` are ignored).
    public var kvTransfer: KVTransferConfig?

    public init(
        scheduler: SchedulerConfig = SchedulerConfig(), blockSize: Int = 16, blockCount: Int,
        enablePrefixCaching: Bool = true, kvCacheDType: KVCacheDType = .f16, servedModelName: String,
        kvTransfer: KVTransferConfig? = nil
    ) {
        self.kvTransfer = kvTransfer
        self.kvCacheDType = kvCacheDType
        self.scheduler = scheduler
        self.blockSize = blockSize
        self.blockCount = blockCount
        self.enablePrefixCaching = enablePrefixCaching
        self.servedModelName = servedModelName
    }

    /// Blocks that fit in `bytes` of KV memory for `config`.
    public static func blockCount(
        kvCacheBytes bytes: Int, config: LlamaConfiguration, blockSize: Int, dtype: KVCacheDType = .f16
    ) -> Int {
        bytes / PagedKVCache.bytesPerBlock(config: config, blockSize: blockSize, dtype: dtype)
    }
}
