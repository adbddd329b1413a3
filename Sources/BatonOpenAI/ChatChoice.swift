// One choice of a whole `chat.completion` response.

public struct ChatChoice: Codable, Sendable {
    public var index: Int
    public var message: ChatMessageOut
    public var logprobs: ChatLogprobs?
    public var finishReason: String?
    public var stopReason: StopReasonValue?
    enum CodingKeys: String, CodingKey { case index, message, logprobs, finishReason = "finish_reason", stopReason = "stop_reason" }
    public init(index: Int, message: ChatMessageOut, logprobs: ChatLogprobs?, finishReason: String?, stopReason: StopReasonValue?) {
        self.index = index
        self.message = message
        self.logprobs = logprobs
        self.finishReason = finishReason
        self.stopReason = stopReason
    }
}
