// GPT-2 byte-level BPE from GGUF metadata (`tokenizer.ggml.*`): vocabulary, merge ranks, token
// types; special tokens found in text; encode and decode.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A byte-level BPE tokenizer. Immutable and thread-safe; encodes a few MB/s.
public final class Tokenizer: Sendable {
    public let tokens: [String]
    public let tokenTypes: [TokenType]
    public let bosTokenId: Int32?
    public let eosTokenId: Int32?
    public let addBOS: Bool
    /// Control and user-defined tokens as UTF-8, longest first (llama.cpp's partition order).
    let specials: [(bytes: [UInt8], id: Int32, control: Bool)]
    /// Symbol id of a token text (vocab ids first; texts only in merges get ids ≥ vocab size).
    let symbolIds: [String: Int32]
    /// (left, right) symbol ids → (rank, merged symbol id).
    let merges: [UInt64: (rank: Int32, result: Int32)]
    /// The symbol id of each byte's alphabet character.
    let byteSymbols: [Int32]
    /// Vocabulary id of each symbol, or -1 when a symbol is only a merge intermediate.
    let symbolToToken: [Int32]
    /// Text of every symbol (vocabulary tokens and merge intermediates), by symbol id.
    let symbolTexts: [String]

    public var vocabularySize: Int { tokens.count }

    public convenience init(gguf: GGUFFile) throws(TokenizerError) {
        let m = gguf.metadata
        let model = m["tokenizer.ggml.model"]?.stringValue ?? ""
        guard model == "gpt2" else { throw .unsupportedModel(model) }
        let pre = m["tokenizer.ggml.pre"]?.stringValue ?? "gpt2"
        guard ["smollm", "gpt2", "default"].contains(pre) else { throw .unsupportedPreTokenizer(pre) }
        guard let tokenValues = m["tokenizer.ggml.tokens"]?.arrayValue else { throw .missing("tokenizer.ggml.tokens") }
        guard let mergeValues = m["tokenizer.ggml.merges"]?.arrayValue else { throw .missing("tokenizer.ggml.merges") }
        let tokens = tokenValues.map { $0.stringValue ?? "" }
        let types = (m["tokenizer.ggml.token_type"]?.arrayValue ?? []).map { TokenType(rawValue: Int32($0.intValue ?? 1)) ?? .normal }
        func tokenId(_ key: String) -> Int32? {
            guard let v = m[key]?.intValue, v >= 0, v < tokens.count else { return nil }
            return Int32(v)
        }
        try self.init(
            tokens: tokens, types: types.count == tokens.count ? types : Array(repeating: .normal, count: tokens.count),
            merges: mergeValues.map { $0.stringValue ?? "" },
            bos: tokenId("tokenizer.ggml.bos_token_id"), eos: tokenId("tokenizer.ggml.eos_token_id"),
            addBOS: m["tokenizer.ggml.add_bos_token"]?.boolValue ?? false)
    }

    public init(tokens: [String], types: [TokenType], merges mergeTexts: [String], bos: Int32?, eos: Int32?, addBOS: Bool) throws(TokenizerError) {
        self.tokens = tokens
        tokenTypes = types
        bosTokenId = bos
        eosTokenId = eos
        self.addBOS = addBOS
        var ids: [String: Int32] = [:]
        ids.reserveCapacity(tokens.count)
        var texts = tokens
        var toToken: [Int32] = []
        for (i, t) in tokens.enumerated() where ids[t] == nil { ids[t] = Int32(i) }
        toToken = (0..<tokens.count).map { Int32($0) }
        func symbol(_ text: String) -> Int32 {
            if let id = ids[text] { return id }
            let id = Int32(texts.count)
            ids[text] = id
            texts.append(text)
            toToken.append(-1)
            return id
        }
        var merges: [UInt64: (rank: Int32, result: Int32)] = [:]
        merges.reserveCapacity(mergeTexts.count)
        for (rank, text) in mergeTexts.enumerated() {
            let parts = text.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { throw .badMerge(index: rank, text: text) }
            let left = symbol(String(parts[0])), right = symbol(String(parts[1]))
            let result = symbol(String(parts[0]) + String(parts[1]))
            let key = UInt64(UInt32(left)) << 32 | UInt64(UInt32(right))
            if merges[key] == nil { merges[key] = (Int32(rank), result) }
        }
        byteSymbols = (0..<256).map { symbol(String(ByteLevel.byteToScalar[$0])) }
        symbolIds = ids
        symbolTexts = texts
        symbolToToken = toToken
        self.merges = merges
        var specials: [(bytes: [UInt8], id: Int32, control: Bool)] = []
        for (i, t) in tokens.enumerated() where !t.isEmpty {
            let type = types[i]
            if type == .control || type == .userDefined || type == .unknown {
                specials.append((Array(t.utf8), Int32(i), type != .userDefined))
            }
        }
        specials.sort { $0.bytes.count > $1.bytes.count }
        self.specials = specials
    }

    /// Token ids of `text`. With `parseSpecial`, control tokens written in the text
    /// (`<|im_start|>`) become their ids; user-defined tokens always do, as in llama.cpp.
    public func encode(_ text: String, addSpecial: Bool = false, parseSpecial: Bool = false) -> [Int32] {
        var none = BPECache(capacity: 0)
        return encode(text, addSpecial: addSpecial, parseSpecial: parseSpecial, cache: &none)
    }

    /// `encode`, taking the ids of pieces seen before from `cache` and adding new ones to it.
    public func encode(_ text: String, addSpecial: Bool = false, parseSpecial: Bool = false, cache: inout BPECache) -> [Int32] {
        var out: [Int32] = []
        if addSpecial, addBOS, let bos = bosTokenId { out.append(bos) }
        for fragment in partition(text, parseSpecial: parseSpecial) {
            switch fragment {
            case .special(let id): out.append(id)
            case .text(let s): encodeOrdinary(s, into: &out, cache: &cache)
            }
        }
        return out
    }

    enum Fragment { case text(Substring), special(Int32) }

    /// Splits text around special tokens, longest special first (leftmost matches, none
    /// overlapping). Searches the UTF-8 bytes in place: a match of a whole UTF-8 sequence always
    /// starts and ends on a character boundary, and a byte search (`find`) keeps tokenizing a
    /// prompt cheap, which the router does per request.
    func partition(_ text: String, parseSpecial: Bool) -> [Fragment] {
        var text = text
        let pieces = text.withUTF8 { specialPieces($0, parseSpecial: parseSpecial) }
        let utf8 = text.utf8
        return pieces.map {
            switch $0 {
            case .special(let id): return .special(id)
            case .text(let r):
                let lo = utf8.index(utf8.startIndex, offsetBy: r.lowerBound), hi = utf8.index(utf8.startIndex, offsetBy: r.upperBound)
                return .text(Substring(utf8[lo..<hi]))
            }
        }
    }

    private enum Piece { case text(Range<Int>), special(Int32) }

    private func specialPieces(_ bytes: UnsafeBufferPointer<UInt8>, parseSpecial: Bool) -> [Piece] {
        var pieces: [Piece] = [.text(0..<bytes.count)]
        for special in specials where parseSpecial || !special.control {
            let pattern = special.bytes
            // Most specials occur in no prompt, and this one search is all they cost.
            guard Self.find(pattern, in: bytes, 0..<bytes.count) != nil else { continue }
            var next: [Piece] = []
            for piece in pieces {
                guard case .text(let range) = piece else { next.append(piece); continue }
                var start = range.lowerBound
                while let at = Self.find(pattern, in: bytes, start..<range.upperBound) {
                    if at > start { next.append(.text(start..<at)) }
                    next.append(.special(special.id))
                    start = at + pattern.count
                }
                if start < range.upperBound { next.append(.text(start..<range.upperBound)) }
            }
            pieces = next
        }
        return pieces
    }

    /// Where `pattern` (not empty) first occurs in `bytes[range]`: `memchr` to each candidate
    /// first byte, then one `memcmp`.
    private static func find(_ pattern: [UInt8], in bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int? {
        guard range.count >= pattern.count, let base = bytes.baseAddress else { return nil }
        return pattern.withUnsafeBufferPointer { p in
            let lastStart = range.upperBound - p.count
            var i = range.lowerBound
            while i <= lastStart, let hit = memchr(base + i, Int32(p[0]), lastStart - i + 1) {
                let at = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(hit))
                if memcmp(hit, p.baseAddress!, p.count) == 0 { return at }
                i = at + 1
            }
            return nil
        }
    }

    private func encodeOrdinary(_ text: Substring, into out: inout [Int32], cache: inout BPECache) {
        // ASCII text (most prompts) is split as its bytes, in place; the pieces are the same.
        var text = text
        var pieces: [Range<Int>] = []
        let wasASCII = text.withUTF8 { bytes in
            guard PreTokenizer.splitASCII(bytes, into: &pieces) else { return false }
            for piece in pieces { encodePiece(UnsafeBufferPointer(rebasing: bytes[piece]), into: &out, cache: &cache) }
            return true
        }
        if wasASCII { return }
        let scalars = Array(text.unicodeScalars)
        var utf8: [UInt8] = []
        for piece in PreTokenizer.split(scalars) {
            utf8.removeAll(keepingCapacity: true)
            for s in scalars[piece] { UTF8.encode(s) { utf8.append($0) } }
            utf8.withUnsafeBufferPointer { encodePiece($0, into: &out, cache: &cache) }
        }
    }

    /// The ids of one pre-tokenized piece: from `cache` when it has them, else merged (and added).
    private func encodePiece(_ piece: UnsafeBufferPointer<UInt8>, into out: inout [Int32], cache: inout BPECache) {
        guard cache.capacity > 0 else { return bpe(piece, into: &out) }
        if let ids = cache.lookup(piece) { return out.append(contentsOf: ids) }
        let start = out.count
        bpe(piece, into: &out)
        cache.insert(piece, Array(out[start...]))
    }
}
