// `KVHandoff.plan`: the one decision about a request's `kv_transfer_params` (produce, consume,
// recompute, refuse or none) for each role and policy, and the answer a producer gives. No sockets.

import BatonEngine
import BatonOpenAI
import Testing

private func handoff(_ role: KVRole?, _ policy: KVLoadFailurePolicy = .recompute) -> KVHandoff {
    KVHandoff(
        config: role.map { KVTransferConfig(role: $0, engineId: "e", host: "10.0.0.1", port: 5600, loadFailurePolicy: policy) },
        blockSize: 16)
}

/// A producer's answer for a 40-token prompt (3 blocks), 16 of them from its prefix cache.
private let pulled = KVTransferParams(
    doRemoteDecode: false, doRemotePrefill: true, remoteEngineId: "p", remoteRequestId: "p-1", remoteBlockIds: [7, 8, 9],
    remoteHost: "127.0.0.1", remotePort: 14579, tpSize: 1, remoteNumTokens: 40, remotePrefillCachedTokens: 16)
private let remote = RemotePrefill(
    engineId: "p", requestId: "p-1", blockIds: [7, 8, 9], host: "127.0.0.1", port: 14579, prefillCachedTokens: 16)

@Suite struct KVHandoffPlanTests {
    @Test func noParamsOrNoRoleIsNone() {
        #expect(handoff(.both).plan(nil, stream: false, promptTokens: 40, connected: true) == .none)
        #expect(handoff(nil).plan(pulled, stream: false, promptTokens: 40, connected: true) == .none)
        #expect(handoff(nil).plan(KVTransferParams(doRemoteDecode: true), stream: false, promptTokens: 40, connected: true) == .none)
    }

    @Test func produceOnlyForAProducingRoleAndAWholeAnswer() {
        let decode = KVTransferParams(doRemoteDecode: true)
        #expect(handoff(.producer).plan(decode, stream: false, promptTokens: 40, connected: false) == .produce)
        #expect(handoff(.both).plan(decode, stream: false, promptTokens: 40, connected: true) == .produce)
        #expect(handoff(.consumer).plan(decode, stream: false, promptTokens: 40, connected: true) == .none)
        #expect(handoff(.producer).plan(decode, stream: true, promptTokens: 40, connected: false) == .none)
    }

    @Test func consumeOnlyForAConsumingRole() {
        #expect(handoff(.consumer).plan(pulled, stream: true, promptTokens: 40, connected: true) == .consume(remote))
        #expect(handoff(.both).plan(pulled, stream: false, promptTokens: 33, connected: true) == .consume(remote))
        #expect(handoff(.producer).plan(pulled, stream: false, promptTokens: 40, connected: true) == .none)
    }

    @Test func unusableRemoteKVIsRecomputedWithItsReason() {
        var noHost = pulled
        noHost.remoteHost = nil
        var badPort = pulled
        badPort.remotePort = 0
        var tp = pulled
        tp.tpSize = 2
        let cases: [(KVTransferParams, Int, Bool, KVLoadFailureReason)] = [
            (noHost, 40, true, .badParams),
            (badPort, 40, true, .badParams),
            (tp, 40, true, .badParams),
            (pulled, 60, true, .blockCountMismatch),  // 4 blocks
            (pulled, 32, true, .blockCountMismatch),  // 2 blocks
            (pulled, 40, false, .notConnected),
        ]
        for (params, tokens, connected, reason) in cases {
            let plan = handoff(.consumer).plan(params, stream: false, promptTokens: tokens, connected: connected)
            guard case .recompute(let failure) = plan else {
                Issue.record("\(reason): \(plan)")
                continue
            }
            #expect(failure.reason == reason)
            #expect(plan.intent == nil)
            // The same under `fail`: refused, with the same reason.
            #expect(handoff(.consumer, .fail).plan(params, stream: false, promptTokens: tokens, connected: connected) == .refuse(failure))
        }
    }

    @Test func theRefusalNamesTheField() {
        var noHost = pulled
        noHost.remoteHost = nil
        let plan = handoff(.consumer, .fail).plan(noHost, stream: false, promptTokens: 40, connected: true)
        #expect(plan == .refuse(KVLoadFailure(.badParams, "kv_transfer_params.remote_host is required with do_remote_prefill.")))
    }

    @Test func theProducersAnswerCarriesItsCacheHit() {
        let held = HeldPrefill(requestId: "r", blockIds: [1, 2], numTokens: 20, cachedTokens: 16)
        let answer = handoff(.producer).answer(held)
        #expect(answer == KVTransferParams(
            doRemoteDecode: false, doRemotePrefill: true, remoteEngineId: "e", remoteRequestId: "r", remoteBlockIds: [1, 2],
            remoteHost: "10.0.0.1", remotePort: 5600, tpSize: 1, remoteNumTokens: 20, remotePrefillCachedTokens: 16))
        #expect(handoff(.producer).answer(nil) == nil)
        // What the producer answers, a consumer takes back as the same remote prefill.
        #expect(handoff(.consumer).plan(answer, stream: false, promptTokens: 20, connected: true)
            == .consume(RemotePrefill(engineId: "e", requestId: "r", blockIds: [1, 2], host: "10.0.0.1", port: 5600, prefillCachedTokens: 16)))
    }
}
