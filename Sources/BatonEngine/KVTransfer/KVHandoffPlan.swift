// The one decision about a request's part in a prefill/decode split, made once at admission by
// `KVHandoff.plan` and carried out by the engine. A value: tested without sockets.

/// What the engine does with a request's `kv_transfer_params`.
public enum KVHandoffPlan: Sendable, Equatable {
    /// No part in a split (no params, or parameters this engine's role does not take): served here in full.
    case none
    /// Prefill here and hold the prompt's blocks under a lease for a remote decoder.
    case produce
    /// Pull the prompt's blocks from `RemotePrefill`, then decode.
    case consume(RemotePrefill)
    /// The remote KV cannot be used and the policy is `recompute`: prefill here, logged and counted.
    case recompute(KVLoadFailure)
    /// The remote KV cannot be used and the policy is `fail`: refuse the request.
    case refuse(KVLoadFailure)

    /// The request's part as the scheduler takes it.
    public var intent: KVTransferIntent? {
        switch self {
        case .produce: .produce
        case .consume(let remote): .consume(remote)
        case .none, .recompute, .refuse: nil
        }
    }
}
