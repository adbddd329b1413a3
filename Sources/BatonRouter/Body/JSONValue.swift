// Any JSON value, decoded and encoded with Foundation's coders. The router rewrites request
// bodies and relays `kv_transfer_params` verbatim (vLLM adds fields Baton does not know:
// `dcp_size`, `transfer_mode`, …), so it keeps what it does not understand.

import BatonOpenAI
import Foundation

public enum JSONValue: Codable, Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let v = try? c.decode(Bool.self) { self = .bool(v) }
        else if let v = try? c.decode(Int.self) { self = .int(v) }
        else if let v = try? c.decode(Double.self) { self = .double(v) }
        else if let v = try c.decodeStringIfString() { self = .string(v) }
        else {
            // Not a list at this level: an object. An error inside a list (an unreadable string)
            // is reported as it is.
            do {
                self = .array(try c.decode([JSONValue].self))
            } catch DecodingError.typeMismatch(_, let ctx) where ctx.codingPath.count == c.codingPath.count {
                self = .object(try c.decode([String: JSONValue].self))
            }
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let v): try c.encode(v)
        case .int(let v): try c.encode(v)
        case .double(let v): try c.encode(v)
        case .string(let v): try c.encode(v)
        case .array(let v): try c.encode(v)
        case .object(let v): try c.encode(v)
        }
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    public var string: String? { if case .string(let s) = self { s } else { nil } }
    public var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
    public var int: Int? { if case .int(let i) = self { i } else { nil } }
    public var array: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    public var object: [String: JSONValue]? { if case .object(let o) = self { o } else { nil } }
}
