// Where a request is in its life: vLLM v1's `RequestStatus`.

import BatonModel

public enum RequestStatus: Sendable, Equatable {
    case waiting
    case running
    /// Blocks were taken back; it waits again and recomputes everything.
    case preempted
    /// Its blocks are allocated and a connector is pulling the prompt's KV from a producer.
    case waitingForRemoteKVs
}
