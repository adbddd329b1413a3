// vLLM's `stop_reason`: the stop string or stop token that ended a request.

import BatonModel

public enum StopReason: Sendable, Equatable {
    case string(String)
    case token(Int32)
}
