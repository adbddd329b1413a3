// The engine's side of the KV handoff, carried out: each request's `KVHandoffPlan` (decided
// once by `KVHandoff`), a producer's leases on held prefills (granted when a prefill finishes,
// renewed by reads and heartbeats, ended by DONE, by expiry, checked every loop turn, or at
// shutdown), and a consumer's pulls, which the attached `KVConnector` runs off the loop thread
// and reports back through `finishedLoading`. Remote KV that cannot be used is never dropped
// silently: it is logged with the request id and the reason, and counted in
// `baton_kv_load_failures_total{reason}`.

import BatonModel
import BatonOpenAI
import Logging

extension LLMEngine {
    /// Attaches the connector that pulls remote prefills (a consumer needs one; without it
    /// `do_remote_prefill` requests are recomputed here, or refused under the `fail` policy).
    public func connect(_ connector: any KVConnector) { self.connector.withLock { $0 = connector } }

    /// `request`'s part in a split.
    func plan(_ request: EngineRequest, connected: Bool) -> KVHandoffPlan {
        handoff.plan(request.kvTransferParams, stream: request.stream, promptTokens: request.promptTokenIds.count, connected: connected)
    }

    /// What the scheduler is told. A refusal is logged, counted and thrown here, before
    /// admission (it is why the request is refused): as a client error when the request's own
    /// `kv_transfer_params` are at fault, as a server error otherwise (a consumer without a
    /// connector). A recompute is logged and counted by `admitted`, once the scheduler took it.
    func intent(_ plan: KVHandoffPlan, requestId: String) throws(EngineError) -> KVTransferIntent? {
        if case .refuse(let failure) = plan {
            loadFailed(requestId, failure, recomputing: false)
            throw failure.reason.isTheRequestsFault ? .kvTransferRefused(failure) : .kvLoadFailed(failure)
        }
        return plan.intent
    }

    /// `plan`'s request was admitted: a recompute is logged and counted now (a request the
    /// scheduler rejected, queue full or a duplicate id, recomputes nothing).
    func admitted(_ plan: KVHandoffPlan, requestId: String) {
        if case .recompute(let failure) = plan { loadFailed(requestId, failure, recomputing: true) }
    }

    /// Logs and counts a request whose remote KV cannot be used.
    func loadFailed(_ requestId: String, _ failure: KVLoadFailure, recomputing: Bool) {
        metrics.kvLoadFailed(failure.reason)
        let metadata: Logger.Metadata = ["request_id": "\(requestId)", "reason": "\(failure.reason.rawValue)"]
        if recomputing {
            logger.warning("KV load failed, recomputing the prompt here: \(failure.detail)", metadata: metadata)
        } else {
            logger.error("KV load failed, failing the request (kv_load_failure_policy fail): \(failure.detail)", metadata: metadata)
        }
    }

    // MARK: Held prefills (producer)

    func grantLease(_ held: HeldPrefill, state s: inout State, now: Double) {
        guard s.leases != nil else {
            s.scheduler.releaseHeld(held.requestId)
            return
        }
        s.leases!.grant(held.requestId, blocks: held.blockIds, now: now)
    }

    func expireLeases(_ s: inout State) {
        guard let expired = s.leases?.expire(now: monotonicSeconds()), !expired.isEmpty else { return }
        for id in expired { s.scheduler.releaseHeld(id) }
        metrics.kvLeaseExpired.increment(by: expired.count)
        updateGauges(s)
    }

    /// Extends `requestId`'s lease (a read or a heartbeat is a sign of life) and returns its
    /// blocks; nil if it holds none (unknown, released or expired).
    public func renewLease(_ requestId: String) -> [Int]? {
        state.withLock { $0.leases?.renew(requestId, now: monotonicSeconds()) }
    }

    /// Frees the blocks held for `requestId` (its decoder is done). False if it held none.
    @discardableResult
    public func releaseHeld(_ requestId: String) -> Bool {
        state.withLock { s in
            guard s.leases?.release(requestId) != nil else { return false }
            s.scheduler.releaseHeld(requestId)
            updateGauges(s)
            return true
        }
    }

    // MARK: Pulls (consumer)

    /// A connector's report that `requestId`'s pull ended; `failure` says why it failed.
    public func finishedLoading(_ requestId: String, failure: KVLoadFailure?) {
        let recompute = config.kvTransfer?.loadFailurePolicy != .fail
        let (outcome, failed): (Scheduler.LoadOutcome, Stream?) = state.withLock { s in
            let outcome = s.scheduler.finishedLoading(requestId, success: failure == nil, recompute: recompute)
            updateGauges(s)
            guard outcome == .failed, let stream = s.streams.removeValue(forKey: requestId) else { return (outcome, nil) }
            metrics.requestFinished(reason: .abort, e2e: monotonicSeconds() - stream.arrivalTime)
            return (outcome, stream)
        }
        if let failure, outcome == .recomputing || outcome == .failed {
            loadFailed(requestId, failure, recomputing: outcome == .recomputing)
            // .failed only follows a failure.
            failed?.continuation.finish(throwing: EngineError.kvLoadFailed(failure))
        }
        wakeUp.signal()
    }
}
