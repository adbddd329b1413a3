// The Llama hyper-parameters, read from GGUF metadata under the `llama.` prefix.

/// Llama's shape: GQA attention with RoPE, RMSNorm, SwiGLU FFN.
public struct LlamaConfiguration: Sendable, Equatable {
    public var contextLength: Int
    public var hiddenSize: Int
    public var layerCount: Int
    public var intermediateSize: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var headDim: Int
    public var vocabSize: Int
    public var ropeTheta: Float
    public var rmsNormEps: Float

    public var kvDim: Int { kvHeadCount * headDim }
    public var qDim: Int { headCount * headDim }

    public init(
        contextLength: Int, hiddenSize: Int, layerCount: Int, intermediateSize: Int,
        headCount: Int, kvHeadCount: Int, vocabSize: Int, ropeTheta: Float, rmsNormEps: Float
    ) {
        self.contextLength = contextLength
        self.hiddenSize = hiddenSize
        self.layerCount = layerCount
        self.intermediateSize = intermediateSize
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        self.headDim = hiddenSize / max(headCount, 1)
        self.vocabSize = vocabSize
        self.ropeTheta = ropeTheta
        self.rmsNormEps = rmsNormEps
    }

    /// Reads and validates the configuration of a `llama` GGUF.
    public init(gguf: GGUFFile) throws(ModelError) {
        let arch = gguf.metadata["general.architecture"]?.stringValue ?? ""
        guard arch == "llama" else { throw .unsupportedArchitecture(arch) }
        func int(_ key: String) throws(ModelError) -> Int {
            guard let value = gguf.metadata["llama." + key] else { throw .missingKey("llama." + key) }
            guard let v = value.intValue, v >= 1, v <= 1 << 24 else {
                throw .badValue(key: "llama." + key, reason: "expected a positive integer, got \(value)")
            }
            return v
        }
        let hidden = try int("embedding_length")
        let heads = try int("attention.head_count")
        let kvHeads = (try? int("attention.head_count_kv")) ?? heads
        guard let embed = gguf.tensorsByName["token_embd.weight"], embed.shape.count == 2 else {
            throw .missingTensor("token_embd.weight")
        }
        self.init(
            contextLength: try int("context_length"), hiddenSize: hidden, layerCount: try int("block_count"),
            intermediateSize: try int("feed_forward_length"), headCount: heads, kvHeadCount: kvHeads,
            vocabSize: embed.shape[1],
            ropeTheta: Float(gguf.metadata["llama.rope.freq_base"]?.doubleValue ?? 10000),
            rmsNormEps: Float(gguf.metadata["llama.attention.layer_norm_rms_epsilon"]?.doubleValue ?? 1e-5)
        )
        guard hidden % heads == 0, heads % kvHeads == 0 else {
            throw .badValue(key: "llama.attention.head_count", reason: "\(hidden) hidden / \(heads) heads / \(kvHeads) KV heads do not divide")
        }
        guard headDim % 16 == 0, hidden % 32 == 0, intermediateSize % 32 == 0 else {
            throw .badValue(key: "llama.embedding_length", reason: "head size \(headDim), hidden \(hidden), FFN \(intermediateSize) must be multiples of 16/32")
        }
        if let ropeDims = gguf.metadata["llama.rope.dimension_count"]?.intValue, ropeDims != headDim {
            throw .badValue(key: "llama.rope.dimension_count", reason: "partial RoPE (\(ropeDims) of \(headDim)) is not supported")
        }
    }
}
