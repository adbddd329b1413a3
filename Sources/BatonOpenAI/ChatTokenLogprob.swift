// One generated token's log-probability in a chat response.

public struct ChatTokenLogprob: Codable, Sendable, Equatable {
    public var token: String
    public var logprob: Double
    public var bytes: [UInt8]
    public var topLogprobs: [TopLogprobOut]
    public init(token: String, logprob: Double, bytes: [UInt8], topLogprobs: [TopLogprobOut]) {
        self.token = token
        self.logprob = logprob
        self.bytes = bytes
        self.topLogprobs = topLogprobs
    }
    enum CodingKeys: String, CodingKey { case token, logprob, bytes, topLogprobs = "top_logprobs" }
}
