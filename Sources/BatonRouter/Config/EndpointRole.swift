// An endpoint's role in the router's pools: prefill or decode.

public enum EndpointRole: String, Sendable, Codable, CaseIterable {
    case prefill, decode
}
