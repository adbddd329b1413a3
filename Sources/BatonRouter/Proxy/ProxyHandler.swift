// `/v1/chat/completions` and `/v1/completions`: tokenize, decide, and drive the local path or
// the two-step split (DESIGN.md, "Request lifecycle" and its failure rules):
//
//   split: prefill P (max_tokens 1, do_remote_decode) ─ 2xx ─▶ decode D (P's kv_transfer_params)
//            │ unreachable / 5xx / timeout: another P (bounded), then local on D if its queue
//            │   allows, or on another decode whose queue does (prefill_failure: local), else 503
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

    /// `attempt(again)` once, then every 100 ms for up to `waitForDecode` while `settled` is
    /// false for its answer (an engine may be restarting, a queue draining); the last answer
    /// either way. Throws when the client leaves.
    func waitingForDecode<T>(_ attempt: (_ again: Bool) -> T, until settled: (T) -> Bool) async throws -> T {
        let deadline = ContinuousClock.now + config.waitForDecode
        var again = false
        while true {
            let answer = attempt(again)
            if settled(answer) || ContinuousClock.now >= deadline { return answer }
            try await Task.sleep(for: .milliseconds(100))
            again = true
        }
    }

    /// A rejection that waiting may undo: no decode up (one may come back), or no prefill able
    /// to take the split while the decode has no room for the fallback (under the local policy,
    /// room comes as the local prefills there reach their first bytes).
    func mayPass(_ decision: Decision) -> Bool {
        switch decision {
        case .reject(_, .noDecodeHealthy): true
        case .reject(_, .noPrefillHealthy), .reject(_, .prefillFailed): config.prefillFailure == .local
        default: false
        }
    }

    func route(_ call: Call) async throws -> Response {
        let decided = try await waitingForDecode(
            { again in core.state.withLock { $0.decide(call.routing, again: again) } }, until: { !mayPass($0.decision) })
        let (decision, held) = (decided.decision, decided.heldBlocks)
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
                let next = try await waitingForDecode(
                    { _ in core.state.withLock { $0.fallback(d, call.routing, reason: .prefillFailed) } }, until: { !mayPass($0) })
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
