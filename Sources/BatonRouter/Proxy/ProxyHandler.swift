// `/v1/chat/completions` and `/v1/completions`: tokenize, decide, and drive the local path or
// the two-step split (docs/architecture.md; the failure rules in docs/router.md). A request
// the fast lane handed over arrives decoded, tokenized and decided (Handoff.swift):
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

    /// When the request was taken up, and the time since spent waiting on engines before the
    /// first byte, so the router's own share is known.
    final class Clock: @unchecked Sendable {
        let start: NIODeadline
        var upstream: TimeAmount = .zero

        init(start: NIODeadline = .now()) { self.start = start }

        func waiting<T>(_ body: () async throws -> T) async rethrows -> T {
            let t0 = NIODeadline.now()
            defer { upstream = upstream + (NIODeadline.now() - t0) }
            return try await body()
        }
    }

    /// A request the fast lane handed over comes with its body decoded, its routing request
    /// and its decision (Handoff.swift): taken up where the lane left off, not done again.
    func respond(_ request: Request, context: RouterRequestContext, kind: RequestKind) async throws -> Response {
        let handoff = takeHandoff(request, kind)
        let clock = Clock(start: handoff?.received ?? .now())
        let body: ProxyBody
        if let handoff {
            body = handoff.body
        } else {
            var request = request
            body = try ProxyBody(Data(buffer: try await request.collectBody(upTo: config.maxBodyBytes)))
        }
        let requestId = request.headers[.requestId] ?? RequestId.make()
        let session = sessionHeader.flatMap { request.headers[$0] } ?? body.user
        let authorization = request.headers[.authorization]
        do {
            return try await context.untilClientLeaves {
                let routing: RoutingRequest
                if let handoff {
                    routing = handoff.routing
                } else {
                    routing = await routingRequest(try body.prompt.source(kind), body: body, session: session)
                }
                return try await route(
                    Call(
                        kind: kind, body: body, requestId: requestId, authorization: authorization, clock: clock, routing: routing,
                        decidedBefore: handoff?.decidedBefore ?? false, countedWithoutPrefill: handoff?.countedWithoutPrefill ?? false),
                    decided: handoff?.decided)
            }
        } catch let error as APIError {
            return error.response()
        }
    }

    /// The fast lane's handoff for this request, if it made one: the one its `x-baton-handoff`
    /// names (a request without one leaves the slot alone: a handoff there is an earlier
    /// request's that Hummingbird answered itself, released by the lane when that answer ends).
    private func takeHandoff(_ request: Request, _ kind: RequestKind) -> Handoff? {
        guard let slot = HandoffSlot.current, let handoff = slot.take(request.headers[.batonHandoff]) else { return nil }
        guard handoff.kind == kind else {
            // The lane names the kind it read from the same head: not expected, but released.
            if let decided = handoff.decided { core.release(decided.decision) }
            return nil
        }
        return handoff
    }

    /// The request as the decider sees it. A tokenizer that cannot answer (an engine's
    /// `/tokenize` down, a chat template the model lacks) leaves routing by load alone
    /// (`RoutingRequest.byLoad`); the engine judges the prompt itself.
    func routingRequest(_ source: PromptFields.Source, body: ProxyBody, session: String?) async -> RoutingRequest {
        do {
            let tokens = try await core.tokenizer.tokens(source)
            return RoutingRequest(tokens: tokens, blockSize: config.blockSize, salt: body.cacheSalt, session: session)
        } catch {
            core.logger.warning("tokenizing failed; routing by load", metadata: ["error": "\(error)"])
            return .byLoad(body, session: session)
        }
    }

    struct Call: Sendable {
        var kind: RequestKind
        var body: ProxyBody
        var requestId: String
        var authorization: String?
        var clock: Clock
        var routing: RoutingRequest
        /// The fast lane decided it and counted that decision, then its decode failed before the
        /// first byte: deciding it here is a retry (as a wait's re-decision is), and its
        /// decision, prefix hits and `splitsWithoutPrefill` are not counted a second time.
        var decidedBefore = false
        /// The fast lane's decision was counted in `splitsWithoutPrefill`: a re-decision of
        /// this request is not counted there again (another one of the kind is: the lane's
        /// local path by choice, then no prefill for the retry's decode).
        var countedWithoutPrefill = false

        /// Counts the request's routing decision, once per request.
        func counted(_ metrics: RouterMetrics, path: String, reason: DecisionReason) {
            if !decidedBefore { metrics.decision(path: path, reason: reason) }
        }
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

    /// `decided`: the decision the fast lane made for it, taken as the first answer.
    func route(_ call: Call, decided first: (decision: Decision, heldBlocks: Int)? = nil) async throws -> Response {
        let decided = try await waitingForDecode(
            { (again: Bool) -> (decision: Decision, heldBlocks: Int) in
                if !again, let first { return first }
                return core.state.withLock { $0.decide(call.routing, again: again || call.countedWithoutPrefill) }
            }, until: { !mayPass($0.decision) })
        let (decision, held) = (decided.decision, decided.heldBlocks)
        if !call.decidedBefore { core.metrics.prefix(hit: held, of: call.routing.blockHashes.count) }
        switch decision {
        case .reject(let error, let reason):
            call.counted(core.metrics, path: "none", reason: reason)
            core.metrics.request(path: "none", code: error.status)
            throw error
        case .local(let d, let reason, let fallback):
            call.counted(core.metrics, path: "local", reason: reason)
            if fallback { core.metrics.fallback(reason: reason) }
            core.started([d])
            return try await relay(call, bytes: call.body.localBytes, decode: d, path: "local", fallback: fallback)
        case .split(let p, let d):
            core.started([p, d])
            let split: ProxyBody.Split
            do {
                split = try call.body.split()
            } catch {
                core.ended(p, .neutral)
                core.ended(d, .neutral)
                core.metrics.request(path: "split", code: error.status)
                throw error
            }
            // The decision is counted once the prefill has said whether the split stands.
            let result: PrefillResult
            do {
                result = try await prefill(call, bytes: split.prefillBytes(), first: p, decode: d)
            } catch {
                core.ended(d, .neutral)  // the client left during the prefill
                throw error
            }
            switch result {
            case .params(let params, let prefill):
                call.counted(core.metrics, path: "split", reason: .longPrompt)
                return try await relay(
                    call, bytes: split.decodeBytes(kvTransferParams: params), decode: d, path: "split", fallback: false, prefill: prefill,
                    group: core.group(d))
            case .clientError(let response):
                call.counted(core.metrics, path: "split", reason: .longPrompt)
                core.ended(d, .neutral)
                core.metrics.request(path: "split", code: Int(response.status.code))
                return response
            case .failed:
                core.ended(d, .neutral)
                let next = try await waitingForDecode(
                    { _ in core.state.withLock { $0.fallback(d, call.routing, reason: .prefillFailed) } }, until: { !mayPass($0) })
                guard case .local(let d, let reason, _) = next else {
                    let error = if case .reject(let e, _) = next { e } else { APIError.server("no fallback") }
                    call.counted(core.metrics, path: "none", reason: .prefillFailed)
                    core.metrics.request(path: "split", code: error.status)
                    throw error
                }
                call.counted(core.metrics, path: "local", reason: reason)
                core.metrics.fallback(reason: reason)
                core.started([d])
                return try await relay(call, bytes: call.body.localBytes, decode: d, path: "local", fallback: true)
            }
        }
    }
}
