// A routing decision: the local path, a split, or a rejection (RoutingState.decide).

import BatonOpenAI

public enum Decision: Sendable, Equatable {
    /// Forward unchanged to the decode; `fallback` when a split was wanted but no prefill could serve.
    case local(decode: Int, reason: DecisionReason, fallback: Bool)
    case split(prefill: Int, decode: Int)
    case reject(APIError, reason: DecisionReason)

}
