// A request as the engine takes it, from the API layer.

import BatonModel
import BatonOpenAI

/// A request as the engine takes it: tokens already, the API layer did the rest.
public struct EngineRequest: Sendable {
    public var id: String
    public var promptTokenIds: [Int32]
    public var parameters: RequestParameters
    /// vLLM's `kv_transfer_params` as the client sent them, unchecked: the engine's `KVHandoff`
    /// checks them once and decides the request's part in a prefill/decode split.
    public var kvTransferParams: KVTransferParams?
    /// The client reads the answer as a stream (a producer then serves the request in full).
    public var stream: Bool
    /// Monotonic seconds at arrival (for queue time and end-to-end latency).
    public var arrivalTime: Double

    public init(
        id: String, promptTokenIds: [Int32], parameters: RequestParameters, kvTransferParams: KVTransferParams? = nil,
        stream: Bool = false, arrivalTime: Double = monotonicSeconds()
    ) {
        self.kvTransferParams = kvTransferParams
        self.stream = stream
        self.id = id
        self.promptTokenIds = promptTokenIds
        self.parameters = parameters
        self.arrivalTime = arrivalTime
    }
}
