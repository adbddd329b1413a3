// Prefix-cache keys: each full block of a sequence is named by a hash chained over its parent's
// hash and its own token ids (and the request's cache salt), vLLM's `hash_block_tokens`. Two
// sequences share a block's hash only if they share every token up to the block's end.

import Crypto

/// The first 128 bits of SHA-256(parent ‖ tokens ‖ salt). Stable across processes, so replicas
/// and the router can name the same prefix.
public struct BlockHash: Hashable, Sendable, CustomStringConvertible {
    public let high: UInt64
    public let low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Hash of a full block of `tokens` after the block hashed `parent` (nil for the first).
    public init(parent: BlockHash?, tokens: some Collection<Int32>, salt: String? = nil) {
        var sha = SHA256()
        withUnsafeBytes(of: (parent?.high ?? 0x6261_746F_6E00_0001).littleEndian) { sha.update(bufferPointer: $0) }
        withUnsafeBytes(of: (parent?.low ?? 0).littleEndian) { sha.update(bufferPointer: $0) }
        withUnsafeBytes(of: UInt64(tokens.count).littleEndian) { sha.update(bufferPointer: $0) }
        for t in tokens { withUnsafeBytes(of: t.littleEndian) { sha.update(bufferPointer: $0) } }
        if let salt, parent == nil { sha.update(data: Array(salt.utf8)) }
        let digest = sha.finalize()
        var high: UInt64 = 0, low: UInt64 = 0
        for (i, byte) in digest.prefix(16).enumerated() {
            if i < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
        }
        self.init(high: high, low: low)
    }

    public var description: String {
        String(high, radix: 16) + String(repeating: "0", count: 16 - String(low, radix: 16).count) + String(low, radix: 16)
    }

    /// Hashes of the full blocks of `tokens`, continuing after `existing` (which covers the
    /// first `existing.count` blocks).
    public static func extend(
        _ existing: inout [BlockHash], tokens: [Int32], blockSize: Int, salt: String?
    ) {
        let full = tokens.count / blockSize
        while existing.count < full {
            let b = existing.count
            existing.append(BlockHash(
                parent: existing.last, tokens: tokens[(b * blockSize)..<((b + 1) * blockSize)], salt: salt))
        }
    }
}
