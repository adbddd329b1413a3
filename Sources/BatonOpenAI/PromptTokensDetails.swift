// A response's `usage.prompt_tokens_details` (the cached prompt tokens).

public struct PromptTokensDetails: Codable, Sendable, Equatable {
    public var cachedTokens: Int
    public init(cachedTokens: Int) { self.cachedTokens = cachedTokens }
    enum CodingKeys: String, CodingKey { case cachedTokens = "cached_tokens" }
}
