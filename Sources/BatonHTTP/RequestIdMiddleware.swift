// `X-Request-Id`: taken from the request (or made up) and returned on the response, errors
// included, so a request can be followed through router, prefill and decode logs.

import HTTPTypes
import Hummingbird

extension HTTPField.Name {
    public static let requestId = HTTPField.Name("X-Request-Id")!
}

public struct RequestIdMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var request = request
        let given = request.headers[.requestId].flatMap { $0.isEmpty || $0.count > 256 ? nil : $0 }
        let id = given ?? RequestId.make()
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
