// A JSON field OpenAI lets be one value or a list (`stop`).

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
