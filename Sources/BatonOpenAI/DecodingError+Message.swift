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
        case .typeMismatch(_, let ctx) where ctx.codingPath.isEmpty, .valueNotFound(_, let ctx) where ctx.codingPath.isEmpty:
            return .invalid("The request body must be a JSON object.")
        case .typeMismatch(let type, let ctx):
            let p = path(ctx.codingPath)
            // A type of ours (a field of several kinds) says what it takes in its description.
            guard let expected = describe(type) else { return .invalid("'\(p)': \(ctx.debugDescription).", param: p) }
            return .invalid("'\(p)': expected \(expected). \(ctx.debugDescription)", param: p)
        case .valueNotFound(let type, let ctx):
            let p = path(ctx.codingPath)
            return .invalid("'\(p)': expected \(describe(type) ?? "a value"), found null.", param: p)
        case .keyNotFound(let key, let ctx):
            let p = path(ctx.codingPath + [key])
            return .invalid("'\(p)' is required.", param: p)
        case .dataCorrupted(let ctx):
            if ctx.codingPath.isEmpty { return .invalid("The request body is not valid JSON.", code: "invalid_json") }
            let p = path(ctx.codingPath)
            return .invalid("'\(p)': \(ctx.debugDescription)", param: p)
        @unknown default:
            return .invalid("Invalid request body.")
        }
    }

    /// `type` decoded from a request body, or the 400 that says why not. Foundation reports a
    /// value it cannot convert (a fraction or an out-of-range number for an integer field, an
    /// unpaired surrogate in a string) as if the whole body were not JSON; when the body is a JSON
    /// object, the field is found by decoding the body without each of its keys in turn (an
    /// error path only, and only while the keys times the body's bytes stay under
    /// `maxProbedBytes`, so a large bad body costs no more than a few good ones).
    public static func decodingBody<T: Decodable>(_ type: T.Type, from data: Data, decoder: JSONDecoder = JSONDecoder()) throws(APIError) -> T {
        do {
            return try decoder.decode(T.self, from: data)
        } catch let error as DecodingError {
            guard case .dataCorrupted(let ctx) = error, ctx.codingPath.isEmpty else { throw .decoding(error) }
            throw unfit(type, in: data, decoder: decoder) ?? .decoding(error)
        } catch {
            throw .decoding(error)
        }
    }

    public static let maxProbedBytes = 16 << 20

    /// The 400 naming the top-level key whose value `type` cannot take, when `data` is a JSON
    /// object and removing that one key removes the failure; nil otherwise.
    static func unfit<T: Decodable>(_ type: T.Type, in data: Data, decoder: JSONDecoder) -> APIError? {
        guard let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) as? [String: Any],
              object.count * data.count <= maxProbedBytes else { return nil }
        // Without the culprit the body decodes, or fails otherwise. Without a required key it
        // fails for that key first, which says nothing: one of those is the culprit if no other is.
        var required: String?
        for key in object.keys.sorted() {
            var rest = object
            rest.removeValue(forKey: key)
            guard let probe = try? JSONSerialization.data(withJSONObject: rest) else { continue }
            do {
                _ = try decoder.decode(T.self, from: probe)
            } catch DecodingError.dataCorrupted(let ctx) where ctx.codingPath.isEmpty {
                continue  // still failing without it: not this key
            } catch DecodingError.keyNotFound(let missing, let ctx) where ctx.codingPath.isEmpty && missing.stringValue == key {
                required = required ?? key
                continue
            } catch {}
            return notFitting(key, object[key]!)
        }
        return required.map { notFitting($0, object[$0]!) }
    }

    private static func notFitting(_ key: String, _ value: Any) -> APIError {
        let shown = (try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed]))
            .map { String(decoding: $0.prefix(40), as: UTF8.self) } ?? "the value"
        return .invalid(
            "'\(key)': \(shown) is not a valid value here (an integer field takes no fraction and only numbers in its range; strings must be valid Unicode).",
            param: key)
    }

    private static func describe(_ type: Any.Type) -> String? {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type: return "an integer"
        case is Double.Type, is Float.Type: return "a number"
        case is Bool.Type: return "a boolean"
        default:
            let name = "\(type)"
            return name.hasPrefix("Array") ? "a list" : name.hasPrefix("Dictionary") ? "an object" : nil
        }
    }
}
