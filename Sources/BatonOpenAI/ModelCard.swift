// One entry of `/v1/models`.

public struct ModelCard: Codable, Sendable {
    public var id: String
    public var object = "model"
    public var created: Int
    public var ownedBy = "baton"
    public var root: String
    public var maxModelLen: Int
    enum CodingKeys: String, CodingKey { case id, object, created, ownedBy = "owned_by", root, maxModelLen = "max_model_len" }
    public init(id: String, created: Int, root: String, maxModelLen: Int) {
        self.id = id
        self.created = created
        self.root = root
        self.maxModelLen = maxModelLen
    }
}
