// Why a `kv_transfer_config` was refused: one message naming the key.

public struct KVTransferConfigError: Error, CustomStringConvertible, Equatable {
    public let description: String

    public init(description: String) { self.description = description }
}
