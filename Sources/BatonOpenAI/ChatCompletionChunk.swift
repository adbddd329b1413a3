// A `chat.completion.chunk`: one server-sent event of a streamed chat response.

public struct ChatCompletionChunk: Codable, Sendable {
    public var id: String
    public var object = "chat.completion.chunk"
    public var created: Int
    public var model: String
    public var choices: [ChatChunkChoice]
    public var usage: Usage?
    public init(id: String, created: Int, model: String, choices: [ChatChunkChoice], usage: Usage?) {
        self.id = id
        self.created = created
        self.model = model
        self.choices = choices
        self.usage = usage
    }
}
