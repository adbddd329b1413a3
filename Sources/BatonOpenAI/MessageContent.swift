// Chat message content: a string, or a list of parts of which the `text` ones are used.

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
