// A completions `prompt`: text, texts, token ids, or lists of token ids.

/// A completions `prompt`: text, texts, token ids, or lists of token ids.
public enum PromptInput: Codable, Sendable, Equatable {
    case text(String)
    case texts([String])
    case tokens([Int])
    case tokenLists([[Int]])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let v = try c.decodeStringIfString() { self = .text(v) }
        else if let v = try? c.decode([String].self) { self = .texts(v) }
        else if let v = try? c.decode([Int].self) { self = .tokens(v) }
        else if let v = try? c.decode([[Int]].self) { self = .tokenLists(v) }
        else {
            throw DecodingError.typeMismatch(
                PromptInput.self, .init(codingPath: decoder.codingPath, debugDescription: "expected a string, a list of strings, or token ids"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .text(let v): try c.encode(v)
        case .texts(let v): try c.encode(v)
        case .tokens(let v): try c.encode(v)
        case .tokenLists(let v): try c.encode(v)
        }
    }
}
