// Chat prompts. Baton renders the chat template families it understands natively instead of
// running Jinja; a model whose template is none of them gets an error, never a wrong prompt.
//
// ChatML (SmolLM2, Qwen, …):
//   <|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n{content}<|im_end|>\n…
//   <|im_start|>assistant\n                                   (add_generation_prompt)

/// A chat template family recognised from a GGUF's `tokenizer.chat_template`.
public struct ChatTemplate: Sendable, Equatable {
    public enum Family: Sendable, Equatable { case chatML }

    public let family: Family
    /// The system prompt the template inserts when the conversation has none (SmolLM2's
    /// "You are a helpful AI assistant named SmolLM, trained by Hugging Face").
    public let defaultSystemPrompt: String?

    public init(family: Family, defaultSystemPrompt: String?) {
        self.family = family
        self.defaultSystemPrompt = defaultSystemPrompt
    }

    /// Recognises `source` (a Jinja template).
    public init(source: String?) throws(ChatTemplateError) {
        guard let source, !source.isEmpty else { throw .missing }
        guard source.contains("<|im_start|>"), source.contains("<|im_end|>"),
              source.contains("message['role']") || source.contains("message.role"),
              source.contains("message['content']") || source.contains("message.content")
        else { throw .unsupported(excerpt: String(source.prefix(80))) }
        family = .chatML
        // A default system turn is written literally inside the template.
        let marker = "<|im_start|>system\n"
        if let start = source.firstRange(of: marker),
           let end = source[start.upperBound...].firstRange(of: "<|im_end|>") {
            let text = String(source[start.upperBound..<end.lowerBound])
            defaultSystemPrompt = text.contains("{{") || text.contains("'") ? nil : text
        } else {
            defaultSystemPrompt = nil
        }
    }

    /// The prompt text for `messages`.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool = true) -> String {
        var out = ""
        if let system = defaultSystemPrompt, messages.first?.role != "system" {
            out += "<|im_start|>system\n\(system)<|im_end|>\n"
        }
        for m in messages {
            out += "<|im_start|>\(m.role)\n\(m.content)<|im_end|>\n"
        }
        if addGenerationPrompt { out += "<|im_start|>assistant\n" }
        return out
    }
}

extension ChatTemplate {
    /// The template of a GGUF file.
    public init(gguf: GGUFFile) throws(ChatTemplateError) {
        try self.init(source: gguf.metadata["tokenizer.chat_template"]?.stringValue)
    }
}
