// Token ids back to bytes and text.

extension Tokenizer {
    /// The bytes token `id` stands for. Control tokens are empty unless `special`.
    public func bytes(of id: Int32, special: Bool = false) -> [UInt8] {
        guard id >= 0, Int(id) < tokens.count else { return [] }
        let text = tokens[Int(id)]
        switch tokenTypes[Int(id)] {
        case .control, .unknown, .unused:
            return special ? Array(text.utf8) : []
        case .userDefined:
            return Array(text.utf8)
        case .normal, .byte:
            return ByteLevel.decode(text) ?? Array(text.utf8)
        }
    }

    /// The text of `ids` (invalid UTF-8 replaced by U+FFFD).
    public func decode(_ ids: some Sequence<Int32>, special: Bool = false) -> String {
        var bytes: [UInt8] = []
        for id in ids { bytes.append(contentsOf: self.bytes(of: id, special: special)) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether `id` is a control token (ends generation or marks structure).
    public func isControl(_ id: Int32) -> Bool {
        guard id >= 0, Int(id) < tokens.count else { return false }
        return tokenTypes[Int(id)] == .control
    }

    /// The id of a token text, if it is in the vocabulary.
    public func tokenId(of text: String) -> Int32? {
        guard let s = symbolIds[text], symbolToToken[Int(s)] >= 0 else { return nil }
        return symbolToToken[Int(s)]
    }
}
