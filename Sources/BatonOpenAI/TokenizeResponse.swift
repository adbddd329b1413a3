// vLLM's `/tokenize` response body.

public struct TokenizeResponse: Codable, Sendable {
    public var count: Int
    public var maxModelLen: Int
    public var tokens: [Int]
    public var tokenStrs: [String]?
    enum CodingKeys: String, CodingKey { case count, maxModelLen = "max_model_len", tokens, tokenStrs = "token_strs" }
    public init(count: Int, maxModelLen: Int, tokens: [Int], tokenStrs: [String]?) {
        self.count = count
        self.maxModelLen = maxModelLen
        self.tokens = tokens
        self.tokenStrs = tokenStrs
    }
}
