// A request's progress after a step.

import BatonModel

/// A request's progress after a step.
public struct RequestUpdate: Sendable, Equatable {
    public let requestId: String
    /// The token sampled this step, if any.
    public var newTokenId: Int32?
    public var finishReason: FinishReason?
    public var numPromptTokens: Int
    public var numCachedTokens: Int
    public var numOutputTokens: Int
    /// A producer's finished prefill whose blocks are now held for a remote decoder.
    public var held: HeldPrefill?
}
