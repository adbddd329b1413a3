// What the model runner sampled for one request in one step.

public struct SampledToken: Sendable {
    public var token: Int32
    public var logprob: TokenLogprob?
}
