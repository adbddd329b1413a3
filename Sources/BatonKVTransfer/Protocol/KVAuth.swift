// The KV transfer's shared-secret challenge (HMAC): both sides prove they hold the secret.

import Crypto

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
