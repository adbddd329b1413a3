// `Authorization: Bearer <key>` on the API routes (`/v1/*`, `/tokenize`, `/detokenize`) when
// keys are set; health and metrics stay open, as in vLLM. Keys are compared in constant time
// (every byte of every key is looked at whatever the input), so timing tells nothing about them.

import BatonOpenAI
import HTTPTypes
import Hummingbird

public struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let keys: [[UInt8]]
    /// Path prefixes guarded besides the API routes (the router's `/admin/`).
    let alsoGuarded: [String]

    public init(keys: [String], alsoGuarded: [String] = []) {
        self.keys = keys.map { Array($0.utf8) }
        self.alsoGuarded = alsoGuarded
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard path.hasPrefix("/v1/") || path == "/tokenize" || path == "/detokenize" || alsoGuarded.contains(where: { path.hasPrefix($0) })
        else { return try await next(request, context) }
        guard let auth = request.headers[.authorization], auth.hasPrefix("Bearer "),
              APIKeys.matchesAny(Array(auth.utf8.dropFirst(7)), keys) else { throw APIError.unauthorized }
        return try await next(request, context)
    }
}
