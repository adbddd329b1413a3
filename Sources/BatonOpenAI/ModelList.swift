// The `/v1/models` response body.

public struct ModelList: Codable, Sendable {
    public var object = "list"
    public var data: [ModelCard]
    public init(data: [ModelCard]) { self.data = data }
}
