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

/// API key checks shared by the middleware and the router's fast lane.
public enum APIKeys {
    /// Whether `given` equals one of `keys`, in time that depends only on the lengths.
    public static func matchesAny(_ given: [UInt8], _ keys: [[UInt8]]) -> Bool {
        var matched: UInt8 = 0
        for key in keys { matched |= constantTimeEqual(given, key) ? 1 : 0 }
        return matched == 1
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = a.count ^ b.count
        for i in 0..<b.count { diff |= Int((i < a.count ? a[i] : 0) ^ b[i]) }
        return diff == 0
    }
}
