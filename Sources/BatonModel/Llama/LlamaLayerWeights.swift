// One transformer block's weights, as views into the GGUF mapping.

import BatonKernels

/// One transformer block's weights.
public struct LlamaLayerWeights: @unchecked Sendable {
    public let attentionNorm: [Float]   // (hidden)
    public let wq: WeightMatrix         // (qDim, hidden)
    public let wk: WeightMatrix         // (kvDim, hidden)
    public let wv: WeightMatrix         // (kvDim, hidden)
    public let wo: WeightMatrix         // (hidden, qDim)
    public let ffnNorm: [Float]         // (hidden)
    public let wGate: WeightMatrix      // (ffn, hidden)
    public let wUp: WeightMatrix        // (ffn, hidden)
    public let wDown: WeightMatrix      // (hidden, ffn)
}
