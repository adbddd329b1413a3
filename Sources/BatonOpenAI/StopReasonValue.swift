// vLLM's `stop_reason`: the stop string, the stop token id, or null.

/// vLLM's `stop_reason`: the stop string, the stop token id, or null.
public enum StopReasonValue: Codable, Sendable, Equatable {
    case string(String)
    case token(Int)

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) { self = .string(s) } else { self = .token(try c.decode(Int.self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .string(let s): try c.encode(s)
        case .token(let t): try c.encode(t)
        }
    }
}
