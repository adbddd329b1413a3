// A per-caller cache of already merged BPE pieces, for callers that tokenize many prompts.

/// The token ids of pre-tokenized pieces (words, mostly) already merged, for a caller that
/// tokenizes many prompts (the router, once per event loop): the merge loop then runs once per
/// distinct piece, as with the word caches of Hugging Face's tokenizers and tiktoken. A value
/// type with no lock: each caller owns its own. Bounded by `capacity` pieces; emptied when full.
public struct BPECache: Sendable {
    public let capacity: Int
    /// Pieces of up to 16 bytes (nearly all), keyed by their bytes packed in two words: looking
    /// one up allocates nothing and hashes three words.
    var short: [ShortPiece: [Int32]] = [:]
    var long: [[UInt8]: [Int32]] = [:]

    struct ShortPiece: Hashable {
        var low: UInt64, high: UInt64, count: Int

        init?(_ bytes: UnsafeBufferPointer<UInt8>) {
            guard bytes.count <= 16 else { return nil }
            var words: (UInt64, UInt64) = (0, 0)
            withUnsafeMutableBytes(of: &words) { $0.copyMemory(from: UnsafeRawBufferPointer(bytes)) }
            (low, high, count) = (words.0, words.1, bytes.count)
        }
    }

    public init(capacity: Int = 16_384) { self.capacity = max(0, capacity) }

    public var count: Int { short.count + long.count }

    func lookup(_ piece: UnsafeBufferPointer<UInt8>) -> [Int32]? {
        if let key = ShortPiece(piece) { return short[key] }
        return long[Array(piece)]
    }

    mutating func insert(_ piece: UnsafeBufferPointer<UInt8>, _ ids: [Int32]) {
        if count >= capacity {
            short.removeAll(keepingCapacity: true)
            long.removeAll(keepingCapacity: true)
        }
        if let key = ShortPiece(piece) { short[key] = ids } else { long[Array(piece)] = ids }
    }
}
