// One choice of a `chat.completion.chunk` stream chunk.

public struct ChatChunkChoice: Codable, Sendable {
    public var index: Int
    public var delta: ChatMessageOut
    public var logprobs: ChatLogprobs?
    public var finishReason: String?
    public var stopReason: StopReasonValue?
    enum CodingKeys: String, CodingKey { case index, delta, logprobs, finishReason = "finish_reason", stopReason = "stop_reason" }
    public init(index: Int, delta: ChatMessageOut, logprobs: ChatLogprobs?, finishReason: String?, stopReason: StopReasonValue?) {
        self.index = index
        self.delta = delta
        self.logprobs = logprobs
        self.finishReason = finishReason
        self.stopReason = stopReason
    }
}
