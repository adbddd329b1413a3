// The scheduler's side of a prefill/decode split as a pure value: a producer's request keeps
// its prompt blocks when it finishes; a consumer's request is admitted with its local prefix
// hits, waits while the rest is pulled, and then computes only its last prompt token — or,
// when the pull failed, everything. Exact block ids throughout.

@testable import BatonEngine
import BatonOpenAI
import Testing

private func request(_ id: String, _ tokens: [Int32], maxTokens: Int = 4, kv: KVTransferIntent? = nil) -> Request {
    Request(id: id, promptTokenIds: tokens, parameters: RequestParameters(maxTokens: maxTokens), kvTransfer: kv)
}


private func scheduler(blocks: Int = 12) -> Scheduler {
    Scheduler(
        config: SchedulerConfig(maxNumSeqs: 8, maxNumBatchedTokens: 64, maxModelLen: 256),
        kvCache: KVCacheManager(blockCount: blocks, blockSize: 4))
}

private func remote(_ blocks: [Int]) -> RemotePrefill {
    RemotePrefill(engineId: "p", requestId: "p-1", blockIds: blocks, host: "127.0.0.1", port: 1)
}

@Suite struct SchedulerKVTransferTests {
    @Test func producerHoldsItsPromptBlocksUntilReleased() throws {
        var s = scheduler()
        try s.add(request("a", Array(1...10), maxTokens: 1, kv: .produce))
        let (_, updates) = step(&s)
        #expect(updates[0].finishReason == .length)
        #expect(updates[0].held == HeldPrefill(requestId: "a", blockIds: [0, 1, 2], numTokens: 10, cachedTokens: 0))
        #expect(s.held == ["a"])
        #expect(s.kvCache.pool.freeBlockCount == 9)
        #expect(!s.hasUnfinished)
        #expect(throws: SchedulerError.duplicateId("a")) { try s.add(request("a", [1, 2])) }
        let r1 = s.releaseHeld("a")
        #expect(r1)
        let r2 = s.releaseHeld("a")
        #expect(!r2)
        #expect(s.kvCache.pool.freeBlockCount == 12)
    }

    @Test func anAbortedProducerRequestHoldsNothing() throws {
        var s = scheduler()
        try s.add(request("a", Array(1...10), maxTokens: 1, kv: .produce))
        _ = s.schedule()
        let r3 = s.finish("a")
        #expect(r3 == nil)
        #expect(s.held.isEmpty)
        #expect(s.kvCache.pool.freeBlockCount == 12)
    }

    @Test func consumerPullsOnlyWhatItLacksThenComputesTheLastToken() throws {
        var s = scheduler()
        // A local request leaves blocks 0 and 1 (tokens 1...8) in the prefix cache.
        try s.add(request("local", Array(1...9), maxTokens: 1))
        step(&s)
        try s.add(request("c", Array(1...8) + [20, 21, 22], maxTokens: 2, kv: .consume(remote([7, 8, 9]))))
        let (out, _) = step(&s)
        #expect(out.scheduled.isEmpty, "nothing computes while the blocks are pulled")
        #expect(out.loads.count == 1)
        let load = try #require(out.loads.first)
        #expect(load.skippedBlocks == 2)
        #expect(load.remoteBlocks == [9])
        #expect(load.localBlocks == [3])
        #expect(s.requests["c"]?.status == .waitingForRemoteKVs)
        #expect(s.hasUnfinished)
        // Nothing else happens until the pull ends.
        let r4 = s.schedule().scheduled.isEmpty
        #expect(r4)

        let r5 = s.finishedLoading("c", success: true, recompute: true)
        #expect(r5 == .loaded)
        let (out2, updates2) = step(&s)
        #expect(out2.scheduled.map(\.start) == [10])
        #expect(out2.scheduled.map(\.tokenIds) == [[22]])
        #expect(out2.scheduled.map(\.blockTable) == [[0, 1, 3]])
        #expect(updates2[0].numCachedTokens == 8, "usage counts the local hits, not the pulled tokens")
        #expect(updates2[0].numPromptTokens == 11)
    }

    @Test func aPulledRequestCountsTheProducersCacheHitNotItsOwn() throws {
        for prefillHit in [0, 4, 11] {
            var s = scheduler()
            // The decode has blocks 0 and 1 (8 tokens) cached locally; the producer had `prefillHit`.
            try s.add(request("local", Array(1...9), maxTokens: 1))
            step(&s)
            var r = remote([7, 8, 9])
            r.prefillCachedTokens = prefillHit
            try s.add(request("c", Array(1...8) + [20, 21, 22], maxTokens: 2, kv: .consume(r)))
            _ = s.schedule()
            _ = s.finishedLoading("c", success: true, recompute: true)
            let (_, updates) = step(&s)
            #expect(updates[0].numCachedTokens == prefillHit, "cached_tokens as one engine (the producer) saw them")
        }
    }

    @Test func pulledFullBlocksEnterThePrefixCache() throws {
        var s = scheduler()
        try s.add(request("c", Array(1...9), maxTokens: 1, kv: .consume(remote([4, 5, 6]))))
        let load = try #require(s.schedule().loads.first)
        #expect(load.localBlocks == [0, 1, 2])
        #expect(s.kvCache.pool.cachedBlockCount == 0, "not cached before the bytes are there")
        _ = s.finishedLoading("c", success: true, recompute: true)
        #expect(s.kvCache.pool.cachedBlockCount == 2)
    }

    @Test func aFailedPullRecomputesEverything() throws {
        var s = scheduler()
        try s.add(request("c", Array(1...9), maxTokens: 1, kv: .consume(remote([4, 5, 6]))))
        _ = s.schedule()
        let r6 = s.finishedLoading("c", success: false, recompute: true)
        #expect(r6 == .recomputing)
        let (out, updates) = step(&s)
        #expect(out.loads.isEmpty)
        #expect(out.scheduled.map(\.start) == [0])
        #expect(out.scheduled.map(\.numTokens) == [9])
        #expect(updates[0].finishReason == .length)
    }

    @Test func aFailedPullWithPolicyFailRemovesTheRequest() throws {
        var s = scheduler()
        try s.add(request("c", Array(1...9), maxTokens: 1, kv: .consume(remote([4, 5, 6]))))
        _ = s.schedule()
        let r7 = s.finishedLoading("c", success: false, recompute: false)
        #expect(r7 == .failed)
        #expect(s.requests["c"] == nil)
        #expect(s.kvCache.pool.freeBlockCount == 12)
        #expect(!s.hasUnfinished)
    }

    @Test func blocksOfARequestEndedMidPullAreFreedWhenThePullEnds() throws {
        var s = scheduler()
        try s.add(request("c", Array(1...9), maxTokens: 1, kv: .consume(remote([4, 5, 6]))))
        _ = s.schedule()
        s.finish("c")
        #expect(s.kvCache.pool.freeBlockCount == 9, "the connector may still be writing into them")
        let r8 = s.finishedLoading("c", success: true, recompute: true)
        #expect(r8 == .gone)
        #expect(s.kvCache.pool.freeBlockCount == 12)
    }

    /// The scheduler takes a remote prefill only as `KVHandoff.plan` passed it (the one check of
    /// `kv_transfer_params`; the scheduler's precondition is its invariant): with one block per
    /// block of the prompt, each pulled into one local block (other counts: KVHandoffPlanTests).
    @Test func remotePrefillsComeThroughKVHandoffWithABlockPerPromptBlock() throws {
        let handoff = KVHandoff(config: KVTransferConfig(role: .consumer, engineId: "c"), blockSize: 4)
        func params(_ blocks: [Int]) -> KVTransferParams {
            KVTransferParams(
                doRemotePrefill: true, remoteEngineId: "p", remoteRequestId: "p-1", remoteBlockIds: blocks,
                remoteHost: "127.0.0.1", remotePort: 1)
        }
        let plan = handoff.plan(params([4, 5, 6]), stream: false, promptTokens: 9, connected: true)
        #expect(plan == .consume(remote([4, 5, 6])))
        var s = scheduler()
        try s.add(request("c", Array(1...9), maxTokens: 1, kv: plan.intent))
        let load = try #require(s.schedule().loads.first)
        #expect(load.remoteBlocks == [4, 5, 6])
        #expect(load.localBlocks == [0, 1, 2])
    }
}

@Suite struct KVLeaseTableTests {
    @Test func leasesEndByReleaseOrExpiryAndHeartbeatsExtendThem() {
        var t = KVLeaseTable(leaseSeconds: 2)
        t.grant("a", blocks: [1, 2], now: 0)
        t.grant("b", blocks: [3], now: 0)
        #expect(t.heldBlockCount == 3)
        #expect(t.renew("a", now: 1.5) == [1, 2])
        let r9 = t.expire(now: 2)
        #expect(r9 == ["b"])
        let r10 = t.expire(now: 3)
        #expect(r10 == [])
        let r11 = t.renew("b", now: 3)
        #expect(r11 == nil)
        let r12 = t.expire(now: 3.5)
        #expect(r12 == ["a"])
        t.grant("c", blocks: [4], now: 4)
        let r13 = t.release("c")
        #expect(r13 == [4])
        let r14 = t.release("c")
        #expect(r14 == nil)
        #expect(t.heldBlockCount == 0)
    }
}
