// What a request's stream yields, step by step.

import BatonModel

/// What a request's stream yields after each step that produced something for it.
public struct RequestOutput: Sendable, Equatable {
    /// Text released by this step (stop strings never appear).
    public var text: String
    /// Tokens sampled this step.
    public var tokenIds: [Int32]
    public var logprobs: [TokenLogprob]
    public var finishReason: FinishReason?
    /// The stop string or stop token that ended the request, vLLM's `stop_reason`.
    public var stopReason: StopReason?
    public var promptTokens: Int
    public var cachedTokens: Int
    public var completionTokens: Int
    /// On a producer's last output: the prompt blocks it now holds for a remote decoder.
    public var held: HeldPrefill?

    public init(
        text: String = "", tokenIds: [Int32] = [], logprobs: [TokenLogprob] = [], finishReason: FinishReason? = nil,
        stopReason: StopReason? = nil, promptTokens: Int = 0, cachedTokens: Int = 0, completionTokens: Int = 0,
        held: HeldPrefill? = nil
    ) {
        self.held = held
        self.text = text
        self.tokenIds = tokenIds
        self.logprobs = logprobs
        self.finishReason = finishReason
        self.stopReason = stopReason
        self.promptTokens = promptTokens
        self.cachedTokens = cachedTokens
        self.completionTokens = completionTokens
    }

    /// Appends a later output of the same request (text, tokens, logprobs; counts and finish
    /// from the later one).
    public mutating func merge(_ next: RequestOutput) {
        text += next.text
        tokenIds += next.tokenIds
        logprobs += next.logprobs
        finishReason = next.finishReason
        stopReason = next.stopReason
        promptTokens = next.promptTokens
        cachedTokens = next.cachedTokens
        completionTokens = next.completionTokens
        held = next.held ?? held
    }
}
