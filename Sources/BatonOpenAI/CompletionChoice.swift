// One choice of a `text_completion` response or stream chunk.

public struct CompletionChoice: Codable, Sendable {
    public var index: Int
    public var text: String
    public var logprobs: CompletionLogprobs?
    public var finishReason: String?
    public var stopReason: StopReasonValue?
    enum CodingKeys: String, CodingKey { case index, text, logprobs, finishReason = "finish_reason", stopReason = "stop_reason" }
    public init(index: Int, text: String, logprobs: CompletionLogprobs?, finishReason: String?, stopReason: StopReasonValue?) {
        self.index = index
        self.text = text
        self.logprobs = logprobs
        self.finishReason = finishReason
        self.stopReason = stopReason
    }
}
