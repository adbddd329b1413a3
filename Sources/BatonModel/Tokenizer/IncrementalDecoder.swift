// Streaming detokenisation that never splits a UTF-8 character across outputs.

/// Turns a stream of token ids into text: bytes of an incomplete character wait for the next
/// token; bytes that can never become valid come out as U+FFFD.
public struct IncrementalDecoder: Sendable {
    private var pending: [UInt8] = []
    public let special: Bool

    public init(special: Bool = false) { self.special = special }

    /// Adds a token; returns the text that is now complete (possibly empty).
    public mutating func append(_ id: Int32, tokenizer: Tokenizer) -> String {
        pending.append(contentsOf: tokenizer.bytes(of: id, special: special))
        let complete = Self.completePrefixLength(pending)
        guard complete > 0 else { return "" }
        let text = String(decoding: pending[0..<complete], as: UTF8.self)
        pending.removeFirst(complete)
        return text
    }

    /// Whatever is left (an incomplete character becomes U+FFFD).
    public mutating func flush() -> String {
        defer { pending.removeAll() }
        return pending.isEmpty ? "" : String(decoding: pending, as: UTF8.self)
    }

    /// Length of the longest prefix that does not end inside a UTF-8 sequence that could still
    /// be completed.
    static func completePrefixLength(_ bytes: [UInt8]) -> Int {
        let n = bytes.count
        var i = n - 1
        // The last sequence starts at most 3 bytes back.
        while i >= 0, i >= n - 4 {
            let b = bytes[i]
            if b & 0xC0 != 0x80 {
                let need = b < 0x80 ? 1 : b & 0xE0 == 0xC0 ? 2 : b & 0xF0 == 0xE0 ? 3 : b & 0xF8 == 0xF0 ? 4 : 1
                return n - i < need ? i : n
            }
            i -= 1
        }
        return n
    }
}
