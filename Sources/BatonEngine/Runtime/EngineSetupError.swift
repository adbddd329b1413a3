// Why an engine could not be built (too few KV blocks for one context, no memory).

import BatonModel
import Dispatch
import Synchronization

public struct EngineSetupError: Error, CustomStringConvertible {
    public let description: String
}
