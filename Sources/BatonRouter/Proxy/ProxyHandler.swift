// `/v1/chat/completions` and `/v1/completions`: tokenize, decide, and drive the local path or
// the two-step split (DESIGN.md, "Request lifecycle" and its failure rules):
//
//   split: prefill P (max_tokens 1, do_remote_decode) ─ 2xx ─▶ decode D (P's kv_transfer_params)
//            │ unreachable / 5xx / timeout: another P (bounded), then local on D if its queue
//            │   allows (prefill_failure: local), else 503
//            └ 4xx: the client's fault, passed through
//   decode:  fails before its first byte: another D, same body; dies mid-stream: an SSE error
//            event and [DONE]; the client goes away: the upstream call is cancelled.
//
// Everything before the first byte runs watched for the client closing its connection, which
// cancels the upstream calls (the engines then abort the request and free its blocks); after
// it, a write that fails drops the upstream stream, which cancels the decode.

import AsyncHTTPClient
import BatonHTTP
import BatonOpenAI
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

struct ProxyHandler: Sendable {
    let core: RouterCore
    /// `config.sessionHeader` as a field name (nil if it is not a valid one).
    let sessionHeader: HTTPField.Name?

    init(core: RouterCore) {
        self.core = core
        sessionHeader = HTTPField.Name(core.config.sessionHeader)
    }

    var config: RouterConfig { core.config }

    /// Time spent waiting on engines before the first byte, so the router's own share is known.
    final class Clock: @unchecked Sendable {
        let start = ContinuousClock.now
        var upstream: Duration = .zero

        func waiting<T>(_ body: () async throws -> T) async rethrows -> T {
            let t0 = ContinuousClock.now
            defer { upstream += ContinuousClock.now - t0 }
            return try await body()
        }
    }

    func respond(_ request: Request, context: RouterRequestContext, kind: RequestKind) async throws -> Response {
        let clock = Clock()
        var request = request
        let body = try ProxyBody(Data(buffer: try await request.collectBody(upTo: config.maxBodyBytes)))
        let source = try body.prompt.source(kind)
        let requestId = request.headers[.requestId] ?? RequestId.make()
        let session = sessionHeader.flatMap { request.headers[$0] } ?? body.user
        let authorization = request.headers[.authorization]
        do {
            return try await context.untilClientLeaves {
                let routing = await routingRequest(source, body: body, session: session)
                return try await route(Call(
                    kind: kind, body: body, requestId: requestId, authorization: authorization, clock: clock, routing: routing))
            }
        } catch let error as APIError {
            return error.response()
        }
    }

    /// The request as the decider sees it. A tokenizer that cannot answer (an engine's
    /// `/tokenize` down, a chat template the model lacks) leaves routing by load alone, with the
    /// length estimated from the body's bytes; the engine judges the prompt itself.
    func routingRequest(_ source: PromptFields.Source, body: ProxyBody, session: String?) async -> RoutingRequest {
        do {
            let tokens = try await core.tokenizer.tokens(source)
            return RoutingRequest(tokens: tokens, blockSize: config.blockSize, salt: body.cacheSalt, session: session)
        } catch {
            core.logger.warning("tokenizing failed; routing by load", metadata: ["error": "\(error)"])
            return RoutingRequest(blockHashes: [], promptTokens: body.localBytes.count / 4, session: session)
        }
    }

    struct Call: Sendable {
        var kind: RequestKind
        var body: ProxyBody
        var requestId: String
        var authorization: String?
        var clock: Clock
        var routing: RoutingRequest
    }

    /// `attempt()` until it gives a value, again every 100 ms for up to `waitForDecode` while it
    /// does not (no decode is up, or a failed split's decode has no room for the prompt: an
    /// engine may be restarting, a queue draining); nil if none came. Throws when the client
    /// leaves.
    func untilDecodeUp<T>(_ attempt: () -> T?) async throws -> T? {
        let deadline = ContinuousClock.now + config.waitForDecode
        while true {
            if let value = attempt() { return value }
            guard ContinuousClock.now < deadline else { return nil }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    func route(_ call: Call) async throws -> Response {
        // No decode up, or no prefill up and the decode without room for a local fallback: wait
        // (up to waitForDecode) for the pool to recover.
        var rejected: (decision: Decision, heldBlocks: Int)?
        let (decision, held) = try await untilDecodeUp {
            let decided = core.state.withLock { $0.decide(call.routing, again: rejected != nil) }
            switch decided.decision {
            case .reject(_, .noDecodeHealthy): break
            case .reject(_, .noPrefillHealthy) where config.prefillFailure == .local: break
            default: return decided
            }
            rejected = decided
            return nil
        } ?? rejected!
        core.metrics.prefix(hit: held, of: call.routing.blockHashes.count)
        switch decision {
        case .reject(let error, let reason):
            core.metrics.decision(path: "none", reason: reason)
            core.metrics.request(path: "none", code: error.status)
            throw error
        case .local(let d, let reason, let fallback):
            core.metrics.decision(path: "local", reason: reason)
            if fallback { core.metrics.fallback(reason: reason) }
            core.started([d])
            return try await relay(call, bytes: call.body.localBytes, decode: d, path: "local", fallback: fallback)
        case .split(let p, let d):
            core.started([p, d])
            // The decision is counted once the prefill has said whether the split stands.
            let result: PrefillResult
            do {
                result = try await prefill(call, first: p, decode: d)
            } catch {
                core.ended(d, .neutral)  // the client left during the prefill
                throw error
            }
            switch result {
            case .params(let params, let prefill):
                core.metrics.decision(path: "split", reason: .longPrompt)
                return try await relay(
                    call, bytes: call.body.decodeBytes(kvTransferParams: params), decode: d, path: "split", fallback: false, prefill: prefill,
                    group: core.group(d))
            case .clientError(let response):
                core.metrics.decision(path: "split", reason: .longPrompt)
                core.ended(d, .neutral)
                core.metrics.request(path: "split", code: Int(response.status.code))
                return response
            case .failed:
                core.ended(d, .neutral)
                // Under the local policy a full decode queue is waited out (up to waitForDecode),
                // not a 503 at once: the local prefills in flight there end at their first bytes.
                var refused: Decision?
                let next = try await untilDecodeUp {
                    let next = core.state.withLock { $0.fallback(d, call.routing, reason: .prefillFailed) }
                    guard case .reject = next, config.prefillFailure == .local else { return next }
                    refused = next
                    return nil
                } ?? refused!
                guard case .local(let d, let reason, _) = next else {
                    let error = if case .reject(let e, _) = next { e } else { APIError.server("no fallback") }
                    core.metrics.decision(path: "none", reason: .prefillFailed)
                    core.metrics.request(path: "split", code: error.status)
                    throw error
                }
                core.metrics.decision(path: "local", reason: reason)
                core.metrics.fallback(reason: reason)
                core.started([d])
                return try await relay(call, bytes: call.body.localBytes, decode: d, path: "local", fallback: true)
            }
        }
    }
}
