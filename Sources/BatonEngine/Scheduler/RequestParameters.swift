// What a request asks for, fixed at arrival.

import BatonModel

/// What a request asks for, fixed at arrival.
public struct RequestParameters: Sendable, Equatable {
    public var maxTokens: Int
    public var sampling: SamplingParameters
    /// Token ids that end the request (EOS and the model's end-of-turn ids unless `ignoreEOS`,
    /// plus the client's `stop_token_ids`). The stop token counts as generated, as in vLLM.
    public var stopTokenIds: Set<Int32>
    public var stopStrings: [String]
    public var logprobs: Int?
    public var cacheSalt: String?

    public init(
        maxTokens: Int, sampling: SamplingParameters = .greedy, stopTokenIds: Set<Int32> = [],
        stopStrings: [String] = [], logprobs: Int? = nil, cacheSalt: String? = nil
    ) {
        self.maxTokens = maxTokens
        self.sampling = sampling
        self.stopTokenIds = stopTokenIds
        self.stopStrings = stopStrings
        self.logprobs = logprobs
        self.cacheSalt = cacheSalt
    }
}
