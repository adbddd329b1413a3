// What can go wrong building a tokenizer from a model file.

/// What can go wrong building a tokenizer from a model file.
public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    case missing(String)
    case unsupportedModel(String)
    case unsupportedPreTokenizer(String)
    case badMerge(index: Int, text: String)

    public var description: String {
        switch self {
        case .missing(let key): "model file has no tokenizer metadata '\(key)'"
        case .unsupportedModel(let m): "tokenizer model '\(m)' is not supported (supported: gpt2 byte-level BPE)"
        case .unsupportedPreTokenizer(let p): "pre-tokenizer '\(p)' is not supported (supported: smollm, gpt2)"
        case .badMerge(let i, let t): "tokenizer merge #\(i) '\(t)' is not two tokens separated by a space"
        }
    }
}
