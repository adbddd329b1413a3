// vLLM's `/detokenize` request body.

public struct DetokenizeRequest: Codable, Sendable {
    public var model: String?
    public var tokens: [Int]
}
