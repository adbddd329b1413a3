// What must match for one engine's KV blocks to be usable by another: the compatibility digest
// two engines exchange in the handshake (KVAuth proves the secret; the frames are KVFrame's).

import Crypto

/// What must match for one engine's KV blocks to be usable by another. Sent in HELLO as its
/// `digest`; a server whose own digest differs refuses the client, naming both `canonical` strings.
public struct KVCompatibility: Sendable, Equatable, CustomStringConvertible {
    /// Identifies the weights (e.g. a hash of the model file); different weights, different KV.
    public var modelFingerprint: String
    /// KV cache element type, e.g. "f16".
    public var dtype: String
    public var layers: Int
    public var kvHeads: Int
    public var headSize: Int
    /// Tokens per KV block.
    public var blockSize: Int

    public init(modelFingerprint: String, dtype: String, layers: Int, kvHeads: Int, headSize: Int, blockSize: Int) {
        self.modelFingerprint = modelFingerprint
        self.dtype = dtype
        self.layers = layers
        self.kvHeads = kvHeads
        self.headSize = headSize
        self.blockSize = blockSize
    }

    /// The hashed form; changing it changes every digest, so it is versioned (`baton-kv/1`).
    public var canonical: String {
        "baton-kv/1;model=\(modelFingerprint);dtype=\(dtype);layers=\(layers);kv_heads=\(kvHeads);head_size=\(headSize);block_size=\(blockSize)"
    }

    /// SHA-256 of `canonical`'s UTF-8 bytes: 32 bytes.
    public var digest: [UInt8] {
        Array(SHA256.hash(data: Array(self.canonical.utf8)))
    }

    public var description: String { self.canonical }
}
