// The assistant message of a chat response (whole, or a stream chunk's `delta`).

public struct ChatMessageOut: Codable, Sendable, Equatable {
    public var role: String?
    public var content: String?
    public init(role: String?, content: String?) {
        self.role = role
        self.content = content
    }
}
