// OpenAI-shaped errors: `{"error":{"message","type","param","code"}}` with the HTTP status that
// the official clients map to their typed exceptions (400 BadRequestError, 401
// AuthenticationError, 404 NotFoundError, 413, 429 RateLimitError, 503).

public struct APIError: Error, Codable, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var message: String
    public var type: String
    public var param: String?
    public var code: String?
    /// Seconds for a Retry-After header (429, 503).
    public var retryAfter: Int?

    public init(status: Int, message: String, type: String, param: String? = nil, code: String? = nil, retryAfter: Int? = nil) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.retryAfter = retryAfter
    }

    public var description: String { "\(status) \(type): \(message)" }

    public static func invalid(_ message: String, param: String? = nil, code: String? = nil) -> APIError {
        APIError(status: 400, message: message, type: "invalid_request_error", param: param, code: code)
    }

    public static func modelNotFound(_ model: String) -> APIError {
        APIError(status: 404, message: "The model `\(model)` does not exist.", type: "invalid_request_error", param: "model", code: "model_not_found")
    }

    public static func notFound(_ message: String) -> APIError {
        APIError(status: 404, message: message, type: "invalid_request_error", code: "not_found")
    }

    public static let unauthorized = APIError(
        status: 401, message: "Incorrect or missing API key.", type: "authentication_error", code: "invalid_api_key")

    public static func tooLarge(limit: Int) -> APIError {
        APIError(status: 413, message: "The request body exceeds \(limit) bytes.", type: "invalid_request_error", code: "request_too_large")
    }

    public static func overloaded(_ message: String, retryAfter: Int = 1) -> APIError {
        APIError(status: 429, message: message, type: "rate_limit_error", code: "queue_full", retryAfter: retryAfter)
    }

    public static func unavailable(_ message: String, retryAfter: Int = 1) -> APIError {
        APIError(status: 503, message: message, type: "service_unavailable", code: "unavailable", retryAfter: retryAfter)
    }

    public static func server(_ message: String) -> APIError {
        APIError(status: 500, message: message, type: "internal_error")
    }

    /// The body: `{"error": {...}}`.
    public struct Body: Codable, Sendable {
        public struct Inner: Codable, Sendable {
            public var message: String
            public var type: String
            public var param: String?
            public var code: String?

            /// `param` and `code` are always present, null when unset, as OpenAI sends them.
            public func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(message, forKey: .message)
                try c.encode(type, forKey: .type)
                try c.encode(param, forKey: .param)
                try c.encode(code, forKey: .code)
            }

            enum CodingKeys: String, CodingKey { case message, type, param, code }
        }
        public var error: Inner
    }

    public var body: Body { Body(error: .init(message: message, type: type, param: param, code: code)) }

    enum CodingKeys: String, CodingKey { case status, message, type, param, code, retryAfter }
}
