// `X-Request-Id`: taken from the request (or made up) and returned on the response, errors
// included, so a request can be followed through router, prefill and decode logs.

import Foundation
import HTTPTypes
import Hummingbird

extension HTTPField.Name {
    static let requestId = HTTPField.Name("X-Request-Id")!
}

struct RequestIdMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var request = request
        let given = request.headers[.requestId].flatMap { $0.isEmpty || $0.count > 256 ? nil : $0 }
        let id = given ?? UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        if given == nil {
            var head = request.head
            head.headerFields[.requestId] = id
            request = Request(head: head, body: request.body)
        }
        var response = try await next(request, context)
        response.headers[.requestId] = id
        return response
    }
}

/// `Authorization: Bearer <key>` on the API routes (`/v1/*`, `/tokenize`, `/detokenize`) when a
/// key is set; health and metrics stay open, as in vLLM.
struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let key: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard path.hasPrefix("/v1/") || path == "/tokenize" || path == "/detokenize" else { return try await next(request, context) }
        guard let auth = request.headers[.authorization], auth == "Bearer \(key)" else { throw APIError.unauthorized }
        return try await next(request, context)
    }
}

import BatonOpenAI
