// JSON fields OpenAI lets be one value or a list (`stop`, `prompt`), and message content that is
// a string or a list of parts.

/// `"x"` or `["x", "y"]`.
public enum OneOrMany<T: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    case one(T)
    case many([T])

    public var values: [T] {
        switch self {
        case .one(let v): [v]
        case .many(let vs): vs
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        do {
            self = .one(try c.decode(T.self))
        } catch DecodingError.typeMismatch(_, let ctx) where ctx.codingPath.count == c.codingPath.count {
            self = .many(try c.decode([T].self))  // not one value of T here: a list of them
        } catch let error as DecodingError {
            throw error
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath, debugDescription: Self.unreadable, underlyingError: error))
        }
    }

    static var unreadable: String {
        T.self == String.self ? "not a valid string (invalid UTF-8 or an unpaired surrogate)" : "not a valid value"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .one(let v): try c.encode(v)
        case .many(let vs): try c.encode(vs)
        }
    }
}

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

/// Chat message content: a string, or parts of which the `text` ones are used.
public struct MessageContent: Codable, Sendable, Equatable {
    public var text: String

    public init(_ text: String) { self.text = text }

    struct Part: Codable { var type: String; var text: String? }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { text = ""; return }
        if let s = try c.decodeStringIfString() { text = s; return }
        let parts: [Part]
        do {
            parts = try c.decode([Part].self)
        } catch DecodingError.typeMismatch(_, let ctx) where ctx.codingPath.count == c.codingPath.count {
            throw DecodingError.typeMismatch(
                MessageContent.self, .init(codingPath: decoder.codingPath, debugDescription: "expected a string or a list of content parts"))
        }
        for p in parts where p.type != "text" {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath, debugDescription: "content part type '\(p.type)' is not supported (only 'text')"))
        }
        text = parts.compactMap(\.text).joined()
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(text)
    }
}

extension SingleValueDecodingContainer {
    /// The value if it is a string, nil if it is another kind of value. A string Foundation
    /// cannot read (invalid UTF-8, an unpaired surrogate) is an error, not another kind: a field
    /// that tries several kinds would otherwise report the last kind it tried.
    public func decodeStringIfString() throws -> String? {
        do {
            return try decode(String.self)
        } catch DecodingError.typeMismatch(_, _), DecodingError.valueNotFound(_, _) {
            return nil
        } catch let error as DecodingError {
            throw error
        } catch {
            throw DecodingError.dataCorrupted(.init(
                codingPath: codingPath, debugDescription: "not a valid string (invalid UTF-8 or an unpaired surrogate)", underlyingError: error))
        }
    }
}
