// Llama's weights as views into the GGUF mapping (quantised matrices stay in the file's pages;
// only the small norm vectors are copied, to f32).

import BatonKernels

/// All of a Llama model's weights.
public struct LlamaWeights: @unchecked Sendable {
    public let file: GGUFFile
    public let configuration: LlamaConfiguration
    public let tokenEmbedding: WeightMatrix   // (vocab, hidden)
    public let layers: [LlamaLayerWeights]
    public let outputNorm: [Float]            // (hidden)
    /// `output.weight`, or the token embedding when tied.
    public let output: WeightMatrix           // (vocab, hidden)

    public init(file: GGUFFile, config c: LlamaConfiguration) throws(ModelError) {
        self.file = file
        configuration = c
        func matrix(_ name: String, rows: Int, cols: Int) throws(ModelError) -> WeightMatrix {
            guard let t = file.tensorsByName[name] else { throw .missingTensor(name) }
            guard t.shape == [cols, rows] else { throw .tensorShape(name: name, expected: [cols, rows], found: t.shape) }
            return WeightMatrix(data: file.data(of: t), type: t.type, rows: rows, cols: cols)
        }
        func vector(_ name: String, count: Int) throws(ModelError) -> [Float] {
            guard let t = file.tensorsByName[name] else { throw .missingTensor(name) }
            guard t.shape == [count] else { throw .tensorShape(name: name, expected: [count], found: t.shape) }
            guard t.type == .f32 || t.type == .f16 else { throw .unsupportedNormType(name: name, type: t.type.description) }
            var out = [Float](repeating: 0, count: count)
            out.withUnsafeMutableBufferPointer { dequantizeRow(t.type, file.data(of: t), $0.baseAddress!, count: count) }
            return out
        }
        tokenEmbedding = try matrix("token_embd.weight", rows: c.vocabSize, cols: c.hiddenSize)
        var layers: [LlamaLayerWeights] = []
        for l in 0..<c.layerCount {
            let p = "blk.\(l)."
            layers.append(LlamaLayerWeights(
                attentionNorm: try vector(p + "attn_norm.weight", count: c.hiddenSize),
                wq: try matrix(p + "attn_q.weight", rows: c.qDim, cols: c.hiddenSize),
                wk: try matrix(p + "attn_k.weight", rows: c.kvDim, cols: c.hiddenSize),
                wv: try matrix(p + "attn_v.weight", rows: c.kvDim, cols: c.hiddenSize),
                wo: try matrix(p + "attn_output.weight", rows: c.hiddenSize, cols: c.qDim),
                ffnNorm: try vector(p + "ffn_norm.weight", count: c.hiddenSize),
                wGate: try matrix(p + "ffn_gate.weight", rows: c.intermediateSize, cols: c.hiddenSize),
                wUp: try matrix(p + "ffn_up.weight", rows: c.intermediateSize, cols: c.hiddenSize),
                wDown: try matrix(p + "ffn_down.weight", rows: c.hiddenSize, cols: c.intermediateSize)
            ))
        }
        self.layers = layers
        outputNorm = try vector("output_norm.weight", count: c.hiddenSize)
        if file.tensorsByName["output.weight"] != nil {
            output = try matrix("output.weight", rows: c.vocabSize, cols: c.hiddenSize)
        } else {
            output = tokenEmbedding
        }
    }
}
