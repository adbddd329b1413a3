// A chat choice's `logprobs`: one entry per generated token.

public struct ChatLogprobs: Codable, Sendable, Equatable {
    public var content: [ChatTokenLogprob]
    public init(content: [ChatTokenLogprob]) { self.content = content }
}
