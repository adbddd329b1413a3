// The split's first call: the prefill, retried on other prefill endpoints while the failure
// is the endpoint's (unreachable, 5xx, past the prefill timeout, an answer without
// kv_transfer_params) and tries remain.

import AsyncHTTPClient
import BatonOpenAI
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

extension ProxyHandler {
    enum PrefillResult: Sendable {
        /// The prefill's `kv_transfer_params`, exactly as it sent them, and who sent them.
        case params(JSONValue, from: Endpoint)
        /// A 4xx: the client's fault, for the client as it came.
        case clientError(Response)
        /// Every try failed.
        case failed
    }

    /// `decode`: the split's decode (in replica mode, retries stay in its group).
    func prefill(_ call: Call, bytes: Data, first: Int, decode: Int) async throws -> PrefillResult {
        var tried: Set<Int> = [first]
        var p = first, attempts = 1
        while true {
            let endpoint = core.endpoint(p)
            do {
                let (status, answer) = try await call.clock.waiting {
                    let response = try await core.upstream.post(
                        endpoint, path: call.kind.path, body: bytes, requestId: call.requestId,
                        authorization: call.authorization, timeout: config.timeouts.prefill)
                    return (Int(response.status.code), try await response.body.collect(upTo: 16 << 20))
                }
                switch status {
                case 200..<300:
                    if let params = Self.kvTransferParams(answer) {
                        core.ended(p, .success)
                        return .params(params, from: endpoint)
                    }
                    core.ended(p, .failure("the prefill's answer has no kv_transfer_params object"))
                case 429:
                    core.ended(p, .neutral)  // busy, not broken: another prefill may take it
                case 400..<500:
                    core.ended(p, .neutral)
                    return .clientError(Self.passThrough(status: status, body: answer))
                default:
                    core.ended(p, .failure("HTTP \(status) from the prefill"))
                }
            } catch {
                if Task.isCancelled {
                    core.ended(p, .neutral)
                    throw CancellationError()
                }
                core.ended(p, .failure("prefill call failed: \(error)"))
            }
            guard attempts < config.prefillTries,
                  let next = core.state.withLock({ $0.nextPrefill(call.routing, excluding: tried, decode: decode) }) else { return .failed }
            core.metrics.retry(role: .prefill)
            core.started([next])
            tried.insert(next)
            attempts += 1
            p = next
        }
    }

    /// The `kv_transfer_params` object of a completion body, untouched.
    static func kvTransferParams(_ body: ByteBuffer) -> JSONValue? {
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(buffer: body)),
              let params = value["kv_transfer_params"], case .object = params else { return nil }
        return params
    }

    static func passThrough(status: Int, body: ByteBuffer) -> Response {
        Response(status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: body))
    }
}
