// The two OpenAI routes the router proxies, and their paths.

public enum RequestKind: String, Sendable {
    case chat, completion

    public var path: String { self == .chat ? "/v1/chat/completions" : "/v1/completions" }
}
