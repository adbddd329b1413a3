// Baton's engine-to-engine KV transfer protocol: its version. The frames, the handshake, the
// server and the client live beside this file (docs/architecture.md; the protocol: docs/kv-transfer.md).

public enum KVTransferProtocol {
    /// Bumped whenever a frame's layout changes; peers with another version are refused.
    public static let version: UInt16 = 1
}
