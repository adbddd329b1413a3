// A GGUF's tokenizer and chat template, in the router's process.

import BatonModel
import BatonOpenAI
import Foundation

/// A GGUF's tokenizer and chat template, in the router's process.
public struct LocalPromptTokenizer: LocalTokenizing {
    let tokenizer: Tokenizer
    let template: ChatTemplate?

    public init(tokenizer: Tokenizer, template: ChatTemplate?) {
        self.tokenizer = tokenizer
        self.template = template
    }

    /// Loads both from a GGUF file (its tensors are mapped, never read).
    public init(ggufPath: String) throws {
        let file = try GGUFFile(path: ggufPath)
        tokenizer = try Tokenizer(gguf: file)
        template = try? ChatTemplate(gguf: file)
    }

    public func tokens(_ source: PromptFields.Source) throws -> [Int32] {
        var none = BPECache(capacity: 0)
        return try tokensNow(source, cache: &none)
    }

    public func tokensNow(_ source: PromptFields.Source, cache: inout BPECache) throws -> [Int32] {
        switch source {
        case .chat(let messages, let addGenerationPrompt):
            guard let template else { throw APIError.invalid("This model has no usable chat template; use /v1/completions.") }
            return tokenizer.encode(
                template.render(messages, addGenerationPrompt: addGenerationPrompt), addSpecial: true, parseSpecial: true, cache: &cache)
        case .text(let text): return tokenizer.encode(text, addSpecial: true, parseSpecial: true, cache: &cache)
        case .ids(let ids): return ids
        }
    }
}
