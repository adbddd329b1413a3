// Server-sent events as OpenAI streams them: `data: {json}\n\n` per chunk, `data: [DONE]\n\n`
// at the end.

import Foundation

public enum SSE {
    public static let done = "data: [DONE]\n\n"

    /// One event carrying `value` as compact JSON.
    public static func event(_ value: some Encodable, encoder: JSONEncoder) throws -> Data {
        var data = Data("data: ".utf8)
        data.append(try encoder.encode(value))
        data.append(contentsOf: [10, 10])
        return data
    }
}
