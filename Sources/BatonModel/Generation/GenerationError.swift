// Why an in-process generation cannot run.

public enum GenerationError: Error, CustomStringConvertible, Equatable {
    case emptyPrompt
    case contextOverflow(prompt: Int, maxTokens: Int, context: Int)

    public var description: String {
        switch self {
        case .emptyPrompt: "the prompt is empty"
        case .contextOverflow(let p, let m, let c):
            "prompt (\(p) tokens) + max_tokens (\(m)) exceeds the context length \(c)"
        }
    }
}
