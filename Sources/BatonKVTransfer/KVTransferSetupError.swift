// Why an engine's KV transfer services cannot be built (a KV server beyond loopback without a secret).

/// The KV transfer config the services refuse to run with, and why (the words `baton engine` prints).
public struct KVTransferSetupError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) { self.description = description }
}
