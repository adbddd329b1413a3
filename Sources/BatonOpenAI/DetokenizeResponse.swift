// vLLM's `/detokenize` response body.

public struct DetokenizeResponse: Codable, Sendable {
    public var prompt: String
    public init(prompt: String) { self.prompt = prompt }
}
