// A JSON decoding failure said the way a client can act on: which field, what was expected.

import Foundation

extension APIError {
    /// A 400 for a body that did not decode as `type`.
    public static func decoding(_ error: any Error) -> APIError {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().drop { $0 == "." }.description
        }
        guard let e = error as? DecodingError else { return .invalid("Invalid request body: \(error)") }
        switch e {
        case .typeMismatch(let type, let ctx):
            let p = path(ctx.codingPath)
            return .invalid("'\(p)': expected \(describe(type)). \(ctx.debugDescription)", param: p)
        case .valueNotFound(let type, let ctx):
            let p = path(ctx.codingPath)
            return .invalid("'\(p)': expected \(describe(type)), found null.", param: p)
        case .keyNotFound(let key, let ctx):
            let p = path(ctx.codingPath + [key])
            return .invalid("'\(p)' is required.", param: p)
        case .dataCorrupted(let ctx):
            if ctx.codingPath.isEmpty { return .invalid("The body is not valid JSON.", code: "invalid_json") }
            let p = path(ctx.codingPath)
            return .invalid("'\(p)': \(ctx.debugDescription)", param: p)
        @unknown default:
            return .invalid("Invalid request body.")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type: "an integer"
        case is Double.Type, is Float.Type: "a number"
        case is Bool.Type: "a boolean"
        default: "\(type)".hasPrefix("Array") ? "a list" : "an object"
        }
    }
}
