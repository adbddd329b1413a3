// Every failure leaves as an OpenAI-shaped JSON error: APIError as it is, Hummingbird's own
// errors (unknown route, body too large) mapped, anything else a 500 that names no internals.
// Shared by the engine's server and the router.

import BatonOpenAI
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

public struct OpenAIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    public let maxBodyBytes: Int

    public init(maxBodyBytes: Int) { self.maxBodyBytes = maxBodyBytes }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return error.response()
        } catch let error as HTTPError {
            switch error.status {
            case .contentTooLarge: return APIError.tooLarge(limit: maxBodyBytes).response()
            case .notFound: return APIError.notFound("No route \(request.method) \(request.uri.path).").response()
            case .methodNotAllowed:
                return APIError(status: 405, message: "Method \(request.method) is not allowed on \(request.uri.path).", type: "invalid_request_error").response()
            default:
                return APIError(status: Int(error.status.code), message: error.body ?? error.status.reasonPhrase, type: "invalid_request_error").response()
            }
        } catch is NIOTooManyBytesError {
            return APIError.tooLarge(limit: maxBodyBytes).response()
        } catch is CancellationError {
            // The client went away; nobody reads this answer.
            context.logger.debug("request cancelled")
            return APIError(status: 499, message: "The client closed the request.", type: "invalid_request_error").response()
        } catch {
            context.logger.error("request failed: \(error)")
            return APIError.server("Internal error while handling the request.").response()
        }
    }
}

extension APIError {
    /// The error as a JSON response, with Retry-After when the error carries one.
    public func response() -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        let data = (try? JSONEncoder().encode(body)) ?? Data("{\"error\":{\"message\":\"error\"}}".utf8)
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
