// The seam between the engine and KV transfer (vLLM's `KVConnectorBase_V1`, worker side): the
// engine decides what to pull and when, a connector moves the bytes. Calls come from the engine
// under its lock and must return at once; the connector does its I/O elsewhere and reports back
// through `LLMEngine.finishedLoading`. The engine step loop never waits on the network.

public protocol KVConnector: Sendable {
    /// A request whose prompt KV sits on `remote` arrived: keep the producer's lease alive
    /// (heartbeats) until `loadEnded` or `requestEnded`.
    func requestAdded(_ requestId: String, remote: RemotePrefill)
    /// Pull `load` into the engine's KV cache, then call `engine.finishedLoading`.
    func startLoad(_ load: KVLoad)
    /// The request left (refused, aborted, shut down). If its pull has not started, tell the
    /// producer it can free the blocks; otherwise nothing (the pull ends with DONE).
    func requestEnded(_ requestId: String)
}
