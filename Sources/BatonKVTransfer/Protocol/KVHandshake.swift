// The KV transfer handshake's values: the compatibility digest two engines must share, and the
// HMAC challenge that proves both sides hold the same secret. The frames carrying them are KVFrame's.

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

/// The shared-secret challenge. The server sends a fresh `nonce()` in CHALLENGE; the client
/// answers with `clientMAC`, proving it holds the secret for this nonce, compatibility and
/// engine id; the server checks it with `equal` and answers WELCOME with `serverMAC`, proving
/// the same to the client. The secret itself never crosses the wire.
public enum KVAuth {
    /// 32 bytes from the system's secure random source.
    public static func nonce() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<KVFrame.fixedFieldBytes).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// HMAC-SHA256(key: secret, message: nonce ‖ compatibility ‖ engineId), all as bytes (UTF-8 for strings).
    public static func clientMAC(secret: String, nonce: [UInt8], compatibility: [UInt8], engineId: String) -> [UInt8] {
        self.mac(secret: secret, message: nonce + compatibility + Array(engineId.utf8))
    }

    /// HMAC-SHA256(key: secret, message: "server" ‖ nonce ‖ compatibility); the prefix keeps
    /// a client's MAC from ever being replayed as the server's.
    public static func serverMAC(secret: String, nonce: [UInt8], compatibility: [UInt8]) -> [UInt8] {
        self.mac(secret: secret, message: Array("server".utf8) + nonce + compatibility)
    }

    /// Compares in time that depends only on the lengths, so a MAC cannot be guessed byte by byte;
    /// false when the lengths differ.
    public static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }

    private static func mac(secret: String, message: [UInt8]) -> [UInt8] {
        let key = SymmetricKey(data: Array(secret.utf8))
        return Array(HMAC<SHA256>.authenticationCode(for: message, using: key))
    }
}
