// Why the engine refused or ended a request.

import BatonModel

public enum EngineError: Error, Equatable, CustomStringConvertible {
    case rejected(SchedulerError)
    case shuttingDown
    case aborted
    /// The request's `kv_transfer_params` cannot be used and the policy is `fail` (a client error).
    case kvTransferRefused(KVLoadFailure)
    /// The prompt's KV could not be pulled from the producer, or this engine cannot pull (a
    /// consumer without a connector), and the policy is `fail` (a server error).
    case kvLoadFailed(KVLoadFailure)

    public var description: String {
        switch self {
        case .rejected(let e): e.description
        case .shuttingDown: "the engine is shutting down"
        case .aborted: "the request was aborted"
        case .kvTransferRefused(let failure): failure.detail
        case .kvLoadFailed(let failure): "the prompt's KV cache could not be loaded from the prefill engine: \(failure.detail)"
        }
    }
}
