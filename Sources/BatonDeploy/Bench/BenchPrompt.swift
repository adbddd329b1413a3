// One request `baton bench` sends: its prompt and how many tokens it asks for.

/// One request to send.
public struct BenchPrompt: Sendable, Equatable {
    public var prompt: String
    public var outputTokens: Int
    /// The prompt's length in tokens as the workload meant it, counted only when the server's
    /// answer carries no `usage.prompt_tokens` (nil: unknown, counted as 0).
    public var estimatedPromptTokens: Int?

    public init(prompt: String, outputTokens: Int, estimatedPromptTokens: Int? = nil) {
        self.prompt = prompt
        self.outputTokens = outputTokens
        self.estimatedPromptTokens = estimatedPromptTokens
    }
}
