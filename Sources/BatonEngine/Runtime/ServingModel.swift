// Everything an engine needs from a GGUF: the model with its run state, the tokenizer, the chat
// template (nil when the GGUF's template is not understood; chat requests then fail clearly),
// and the token ids that end a generation.

import BatonKernels
import BatonModel

public struct ServingModel: Sendable {
    public let path: String
    public let model: LlamaModel
    public let tokenizer: Tokenizer
    public let chatTemplate: Result<ChatTemplate, ChatTemplateError>
    /// EOS and every other control token (end of turn, end of text), as `baton generate` and
    /// llama.cpp's end-of-generation set: generation stops at them unless `ignore_eos`.
    public let endTokenIds: Set<Int32>
    /// The scheduler limits it was loaded for, `maxModelLen` capped at the model's context.
    public let scheduler: SchedulerConfig

    /// Loads `path` with run state for `requested`'s step sizes, its matmuls on `kernels`.
    public static func load(
        path: String, threads: Int, kernels: KernelOptions = KernelOptions(), scheduler requested: SchedulerConfig
    ) throws -> ServingModel {
        let file = try GGUFFile(path: path)
        let config = try LlamaConfiguration(gguf: file)
        var scheduler = requested
        scheduler.maxModelLen = min(requested.maxModelLen, config.contextLength)
        let weights = try LlamaWeights(file: file, config: config)
        let tokenizer = try Tokenizer(gguf: file)
        let model = LlamaModel(
            weights: weights, maxBatchTokens: scheduler.maxNumBatchedTokens,
            maxContext: scheduler.maxModelLen, maxLogitRows: scheduler.maxNumSeqs, threads: threads, kernels: kernels)
        let template = Result { () throws(ChatTemplateError) in try ChatTemplate(gguf: file) }
        var ends = Set<Int32>()
        for id in 0..<tokenizer.vocabularySize where tokenizer.isControl(Int32(id)) { ends.insert(Int32(id)) }
        if let eos = tokenizer.eosTokenId { ends.insert(eos) }
        return ServingModel(path: path, model: model, tokenizer: tokenizer, chatTemplate: template, endTokenIds: ends,
            scheduler: scheduler)
    }
}
