// `X-Request-Id`: taken from the request (or made up) and returned on the response, errors
// included, so a request can be followed through router, prefill and decode logs.

import HTTPTypes
import Hummingbird

extension HTTPField.Name {
    public static let requestId = HTTPField.Name("X-Request-Id")!
}

/// Request ids made here: 32 lowercase hex digits of system randomness.
public enum RequestId {
    public static func make() -> String {
        var rng = SystemRandomNumberGenerator()
        return make(using: &rng)
    }

    /// An id from `rng`'s next 128 bits.
    public static func make<G: RandomNumberGenerator>(using rng: inout G) -> String {
        let (a, b): (UInt64, UInt64) = (rng.next(), rng.next())
        return String(unsafeUninitializedCapacity: 32) { out in
            for i in 0..<32 {
                let nibble = Int(((i < 16 ? a : b) >> (60 - 4 * UInt64(i % 16))) & 0xF)
                out[i] = UInt8(ascii: "0") + UInt8(nibble) + (nibble > 9 ? 39 : 0)
            }
            return 32
        }
    }
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
