// The whole `chat.completion` response body.

public struct ChatCompletion: Codable, Sendable {
    public var id: String
    public var object = "chat.completion"
    public var created: Int
    public var model: String
    public var choices: [ChatChoice]
    public var usage: Usage
    public var kvTransferParams: KVTransferParams?
    enum CodingKeys: String, CodingKey { case id, object, created, model, choices, usage, kvTransferParams = "kv_transfer_params" }
    public init(id: String, created: Int, model: String, choices: [ChatChoice], usage: Usage, kvTransferParams: KVTransferParams? = nil) {
        self.kvTransferParams = kvTransferParams
        self.id = id
        self.created = created
        self.model = model
        self.choices = choices
        self.usage = usage
    }
}
