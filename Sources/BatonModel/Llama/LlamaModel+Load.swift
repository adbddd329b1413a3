// Loading a Llama model from a GGUF path.

extension LlamaModel {
    /// Maps, validates and wraps the model at `path`.
    public static func load(
        path: String, threads: Int, maxBatchTokens: Int = 512, maxContext: Int? = nil
    ) throws -> LlamaModel {
        let file = try GGUFFile(path: path)
        let config = try LlamaConfiguration(gguf: file)
        let weights = try LlamaWeights(file: file, config: config)
        return LlamaModel(weights: weights, maxBatchTokens: maxBatchTokens, maxContext: maxContext, threads: threads)
    }
}
