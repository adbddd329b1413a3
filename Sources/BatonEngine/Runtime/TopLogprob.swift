// One alternative of a sampled token.

public struct TopLogprob: Sendable, Equatable {
    public var token: Int32
    public var logprob: Float
}
