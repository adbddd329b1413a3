// One chat message of a `/v1/chat/completions` request body.

public struct ChatMessageIn: Codable, Sendable, Equatable {
    public var role: String
    public var content: MessageContent?
    public var name: String?
}
