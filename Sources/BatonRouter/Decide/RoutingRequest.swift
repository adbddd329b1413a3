// What the router knows about one request when it decides (RoutingState.decide).

import BatonModel

/// What the router knows about one request when it decides.
public struct RoutingRequest: Sendable {
    /// The prompt's full-block hashes (the engine's chain).
    public var blockHashes: [BlockHash]
    public var promptTokens: Int
    public var session: String?

    public init(blockHashes: [BlockHash], promptTokens: Int, session: String?) {
        self.blockHashes = blockHashes
        self.promptTokens = promptTokens
        self.session = session
    }
}
