// The `text_completion` response body, whole or as a stream chunk.

/// `text_completion`, whole or as a stream chunk (same shape; `usage` only where due).
public struct Completion: Codable, Sendable {
    public var id: String
    public var object = "text_completion"
    public var created: Int
    public var model: String
    public var choices: [CompletionChoice]
    public var usage: Usage?
    public var kvTransferParams: KVTransferParams?
    enum CodingKeys: String, CodingKey { case id, object, created, model, choices, usage, kvTransferParams = "kv_transfer_params" }
    public init(id: String, created: Int, model: String, choices: [CompletionChoice], usage: Usage?, kvTransferParams: KVTransferParams? = nil) {
        self.kvTransferParams = kvTransferParams
        self.id = id
        self.created = created
        self.model = model
        self.choices = choices
        self.usage = usage
    }
}
