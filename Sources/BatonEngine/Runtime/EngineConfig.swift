// The engine's configuration, as the CLI and the app config set it.

import BatonModel

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

    /// KV blocks that hold `tokens` tokens.
    public func blocksNeeded(tokens: Int) -> Int { (tokens + blockSize - 1) / blockSize }

    /// Blocks that fit in `bytes` of KV memory for `config`.
    public static func blockCount(
        kvCacheBytes bytes: Int, config: LlamaConfiguration, blockSize: Int, dtype: KVCacheDType = .f16
    ) -> Int {
        bytes / PagedKVCache.bytesPerBlock(config: config, blockSize: blockSize, dtype: dtype)
    }
}

/// A request as the engine takes it: tokens already, the API layer did the rest.
public struct EngineRequest: Sendable {
    public var id: String
    public var promptTokenIds: [Int32]
    public var parameters: RequestParameters
    /// Its part in a prefill/decode split (from `kv_transfer_params`); ignored by an engine
    /// whose role does not take that part.
    public var kvTransfer: KVTransferIntent?
    /// Monotonic seconds at arrival (for queue time and end-to-end latency).
    public var arrivalTime: Double

    public init(
        id: String, promptTokenIds: [Int32], parameters: RequestParameters, kvTransfer: KVTransferIntent? = nil,
        arrivalTime: Double = monotonicSeconds()
    ) {
        self.kvTransfer = kvTransfer
        self.id = id
        self.promptTokenIds = promptTokenIds
        self.parameters = parameters
        self.arrivalTime = arrivalTime
    }
}

/// What a request's stream yields after each step that produced something for it.
public struct RequestOutput: Sendable, Equatable {
    /// Text released by this step (stop strings never appear).
    public var text: String
    /// Tokens sampled this step.
    public var tokenIds: [Int32]
    public var logprobs: [TokenLogprob]
    public var finishReason: FinishReason?
    /// The stop string or stop token that ended the request, vLLM's `stop_reason`.
    public var stopReason: StopReason?
    public var promptTokens: Int
    public var cachedTokens: Int
    public var completionTokens: Int
    /// On a producer's last output: the prompt blocks it now holds for a remote decoder.
    public var held: HeldPrefill?

    public init(
        text: String = "", tokenIds: [Int32] = [], logprobs: [TokenLogprob] = [], finishReason: FinishReason? = nil,
        stopReason: StopReason? = nil, promptTokens: Int = 0, cachedTokens: Int = 0, completionTokens: Int = 0,
        held: HeldPrefill? = nil
    ) {
        self.held = held
        self.text = text
        self.tokenIds = tokenIds
        self.logprobs = logprobs
        self.finishReason = finishReason
        self.stopReason = stopReason
        self.promptTokens = promptTokens
        self.cachedTokens = cachedTokens
        self.completionTokens = completionTokens
    }

    /// Appends a later output of the same request (text, tokens, logprobs; counts and finish
    /// from the later one).
    public mutating func merge(_ next: RequestOutput) {
        text += next.text
        tokenIds += next.tokenIds
        logprobs += next.logprobs
        finishReason = next.finishReason
        stopReason = next.stopReason
        promptTokens = next.promptTokens
        cachedTokens = next.cachedTokens
        completionTokens = next.completionTokens
        held = next.held ?? held
    }
}

public enum StopReason: Sendable, Equatable {
    case string(String)
    case token(Int32)
}

public enum EngineError: Error, Equatable, CustomStringConvertible {
    case rejected(SchedulerError)
    case shuttingDown
    case aborted
    /// The prompt's KV could not be pulled from the producer and the policy is `fail`.
    case kvLoadFailed(String)

    public var description: String {
        switch self {
        case .rejected(let e): e.description
        case .shuttingDown: "the engine is shutting down"
        case .aborted: "the request was aborted"
        case .kvLoadFailed(let why): "the prompt's KV cache could not be loaded from the prefill engine: \(why)"
        }
    }
}
