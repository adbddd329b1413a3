// The scheduler and KV cache manager as pure values: prefix hits, chunked-prefill budgets,
// preemption and abort, with exact block ids. Steps run with made-up sampled tokens.

@testable import BatonEngine
import Testing

private func request(_ id: String, _ tokens: [Int32], maxTokens: Int = 4, stop: Set<Int32> = []) -> Request {
    Request(id: id, promptTokenIds: tokens, parameters: RequestParameters(maxTokens: maxTokens, stopTokenIds: stop))
}


private func scheduler(blocks: Int, blockSize: Int = 4, budget: Int = 64, seqs: Int = 8) -> Scheduler {
    Scheduler(
        config: SchedulerConfig(maxNumSeqs: seqs, maxNumBatchedTokens: budget, maxModelLen: 256),
        kvCache: KVCacheManager(blockCount: blocks, blockSize: blockSize))
}

@Suite struct SchedulerTests {
    @Test func prefixHitReusesCachedBlocksAndCountsCachedTokens() throws {
        var s = scheduler(blocks: 10)
        try s.add(request("a", Array(1...10), maxTokens: 1))
        let (out, updates) = step(&s)
        #expect(out.scheduled.map(\.blockTable) == [[0, 1, 2]])
        #expect(updates.first?.finishReason == .length)
        // Freed tail first: the prefix is evicted last.
        #expect(s.kvCache.pool.freeQueue.ids == [3, 4, 5, 6, 7, 8, 9, 2, 1, 0])

        try s.add(request("b", Array(1...8) + [50, 51, 52], maxTokens: 1))
        let (out2, updates2) = step(&s)
        #expect(out2.scheduled.count == 1)
        #expect(out2.scheduled[0].start == 8, "two blocks came from the cache")
        #expect(out2.scheduled[0].tokenIds == [50, 51, 52])
        #expect(out2.scheduled[0].blockTable == [0, 1, 3])
        #expect(updates2[0].numCachedTokens == 8)
        #expect(s.kvCache.prefixCacheQueries == 21)
        #expect(s.kvCache.prefixCacheHits == 8)
    }

    @Test func aFullyCachedPromptStillComputesItsLastToken() throws {
        var s = scheduler(blocks: 10)
        try s.add(request("a", Array(1...8), maxTokens: 1))
        step(&s)
        try s.add(request("b", Array(1...8), maxTokens: 1))
        let (out, updates) = step(&s)
        #expect(out.scheduled[0].start == 4, "the second block is recomputed for the last token's logits")
        #expect(out.scheduled[0].blockTable == [0, 2])
        #expect(updates[0].numCachedTokens == 4)
    }

    @Test func cacheSaltSeparatesPrefixes() throws {
        var s = scheduler(blocks: 10)
        let salted = Request(id: "a", promptTokenIds: Array(1...9), parameters: RequestParameters(maxTokens: 1, cacheSalt: "tenant-1"))
        try s.add(salted)
        step(&s)
        try s.add(request("b", Array(1...9), maxTokens: 1))
        let (out, _) = step(&s)
        #expect(out.scheduled[0].start == 0)
    }

    @Test func chunkedPrefillSplitsALongPromptWhileOthersDecode() throws {
        var s = scheduler(blocks: 20, budget: 8)
        try s.add(request("short", [1, 2, 3], maxTokens: 10))
        let (first, _) = step(&s)
        #expect(first.scheduled.map(\.numTokens) == [3])
        try s.add(request("long", Array(100..<120), maxTokens: 2))
        #expect(s.queuedPromptTokens == 20, "the short one's prompt is computed; the long one's 20 are queued")
        var chunks: [[Int]] = []
        var queued: [Int] = []
        for _ in 0..<3 {
            let (out, _) = step(&s)
            chunks.append(out.scheduled.map(\.numTokens))
            queued.append(s.queuedPromptTokens)
            #expect(out.totalTokens <= 8)
        }
        #expect(queued == [13, 6, 0])
        // The decode goes first each step; the 20-token prompt takes 7 + 7 + 6.
        #expect(chunks == [[1, 7], [1, 7], [1, 6]])
        #expect(s.requests["long"]?.outputTokenIds == [99], "sampled only after its last chunk")
    }

    @Test func withoutChunkingALongPromptWaitsForAWholeStep() throws {
        var s = Scheduler(
            config: SchedulerConfig(maxNumSeqs: 8, maxNumBatchedTokens: 8, maxModelLen: 64, enableChunkedPrefill: false),
            kvCache: KVCacheManager(blockCount: 20, blockSize: 4))
        try s.add(request("a", Array(1...6)))
        try s.add(request("b", Array(11...16)))
        let (out, _) = step(&s)
        #expect(out.scheduled.map(\.requestId) == ["a"])
    }

    @Test func runningOutOfBlocksPreemptsTheNewestRequest() throws {
        var s = scheduler(blocks: 4)
        try s.add(request("old", Array(1...8), maxTokens: 8))
        try s.add(request("new", Array(11...18), maxTokens: 8))
        let (first, _) = step(&s)
        #expect(first.scheduled.map(\.blockTable) == [[0, 1], [2, 3]])
        // Each now has a ninth token to compute, which needs a fifth block.
        let (second, _) = step(&s)
        #expect(second.preempted == ["new"])
        #expect(second.scheduled.map(\.requestId) == ["old"])
        #expect(second.scheduled[0].blockTable == [0, 1, 3], "old got the block new freed last (its tail)")
        #expect(s.waiting.first == "new")
        #expect(s.requests["new"]?.numComputedTokens == 0)
        #expect(s.requests["new"]?.outputTokenIds == [99], "output kept, recomputed later")
        #expect(s.numPreemptions == 1)
    }

    @Test func abortFreesEveryBlock() throws {
        var s = scheduler(blocks: 6)
        try s.add(request("a", Array(1...9)))
        try s.add(request("b", [5, 6]))
        step(&s)
        s.finish("a")
        s.finish("b")
        s.finish("missing")
        #expect(s.kvCache.pool.freeBlockCount == 6)
        #expect(s.running.isEmpty && s.waiting.isEmpty && s.requests.isEmpty)
        #expect((0..<6).allSatisfy { s.kvCache.pool.refCount($0) == 0 })
    }

    @Test func stopTokenAndMaxTokensFinish() throws {
        var s = scheduler(blocks: 6)
        try s.add(request("a", [1, 2], maxTokens: 5, stop: [7]))
        let (_, u1) = step(&s, token: 3)
        #expect(u1[0].finishReason == nil)
        let (_, u2) = step(&s, token: 7)
        #expect(u2[0].finishReason == .stop)
        #expect(u2[0].numOutputTokens == 2)
        #expect(s.kvCache.pool.freeBlockCount == 6)
    }

    @Test func admissionErrors() throws {
        var s = Scheduler(
            config: SchedulerConfig(maxNumSeqs: 2, maxNumBatchedTokens: 8, maxModelLen: 16, maxWaiting: 1),
            kvCache: KVCacheManager(blockCount: 3, blockSize: 4))
        #expect(throws: SchedulerError.emptyPrompt) { try s.add(request("e", [])) }
        #expect(throws: SchedulerError.tooLong(prompt: 14, maxTokens: 4, context: 16)) { try s.add(request("l", Array(1...14))) }
        #expect(throws: SchedulerError.exceedsPool(blocks: 4, pool: 3)) { try s.add(request("p", Array(1...12))) }
        try s.add(request("a", [1]))
        #expect(throws: SchedulerError.duplicateId("a")) { try s.add(request("a", [1])) }
        #expect(throws: SchedulerError.queueFull(1)) { try s.add(request("b", [1])) }
    }

    @Test func maxNumSeqsLimitsAdmission() throws {
        var s = scheduler(blocks: 20, seqs: 2)
        for id in ["a", "b", "c"] { try s.add(request(id, [1, 2])) }
        let (out, _) = step(&s)
        #expect(out.scheduled.map(\.requestId) == ["a", "b"])
        #expect(Array(s.waiting) == ["c"])
    }
}
