// Continuous batching, FCFS, with chunked prefill and preemption by recompute. A pure value:
//
//   step:  output = scheduler.schedule()          which tokens of which requests run now
//          sampled = runner.execute(output)       (the forward pass, elsewhere)
//          updates = scheduler.updateFromOutput(output, sampled: sampled)
//
// schedule() serves running requests first (each its next chunk or one decode token) under the
// step's token budget; when a running request cannot get a block, the newest running request
// is preempted (blocks freed, back to the front of the queue, recomputed later). Then waiting
// requests are admitted in arrival order with their prefix-cache hits, while budget, sequence
// slots and blocks last. vLLM v1's `Scheduler`.
//
// Prefill/decode split: a producer's request (`.produce`) finishes as usual but keeps its prompt
// blocks (held, for a lease the engine keeps). A consumer's request (`.consume`) is admitted
// like any other, with its local prefix hits, but instead of computing it waits in
// `.waitingForRemoteKVs` while a connector pulls the rest of its prompt's blocks (`loads`);
// when the pull ends it rejoins the queue with every prompt token but the last computed (the
// model needs the last one's logits), or, if the pull failed, with none.

import BatonModel
import DequeModule

public struct Scheduler: Sendable {
    public let config: SchedulerConfig
    public private(set) var kvCache: KVCacheManager
    public private(set) var requests: [String: Request] = [:]
    public private(set) var waiting: Deque<String> = []
    public private(set) var running: [String] = []
    /// Consumer requests whose blocks are being pulled, in admission order.
    public private(set) var waitingForRemoteKVs: [String] = []

    /// Prompt tokens of the waiting and running requests that are not computed yet (a request
    /// pulling its KV from a prefill engine is not counted: it needs no prefill here).
    public var queuedPromptTokens: Int {
        (waiting + running).reduce(0) { sum, id in
            guard let r = requests[id] else { return sum }
            if case .consume = r.kvTransfer { return sum }
            return sum + max(0, r.numPromptTokens - r.numComputedTokens)
        }
    }
    /// Finished producer requests whose blocks are held for a remote decoder.
    public private(set) var held: Set<String> = []
    public private(set) var numPreemptions = 0
    /// Requests that ended while their pull was in flight: their blocks are freed when it ends
    /// (the connector may still be writing into them).
    private var endedWhileLoading: Set<String> = []

    public init(config: SchedulerConfig, kvCache: KVCacheManager) {
        self.config = config
        self.kvCache = kvCache
    }

    public var blockSize: Int { kvCache.blockSize }
    public var hasUnfinished: Bool { !waiting.isEmpty || !running.isEmpty || !waitingForRemoteKVs.isEmpty }

    /// Queues a request; throws if it can never run or the queue is full.
    public mutating func add(_ request: Request) throws(SchedulerError) {
        guard requests[request.id] == nil, kvCache.requestBlocks[request.id] == nil else { throw .duplicateId(request.id) }
        guard !request.promptTokenIds.isEmpty else { throw .emptyPrompt }
        guard waiting.count < config.maxWaiting else { throw .queueFull(config.maxWaiting) }
        guard request.parameters.maxTokens >= 1, request.parameters.maxTokens <= config.maxModelLen - request.numPromptTokens else {
            throw .tooLong(prompt: request.numPromptTokens, maxTokens: request.parameters.maxTokens, context: config.maxModelLen)
        }
        let total = request.numPromptTokens + request.parameters.maxTokens
        let blocks = kvCache.blocksNeeded(tokens: total)
        guard blocks <= kvCache.pool.blockCount else { throw .exceedsPool(blocks: blocks, pool: kvCache.pool.blockCount) }
        if case .consume(let remote) = request.kvTransfer {
            // `KVHandoff.plan` checked `kv_transfer_params` (the one place): a remote prefill
            // reaches the scheduler only with one block per block of the prompt.
            precondition(remote.blockIds.count == kvCache.blocksNeeded(tokens: request.numPromptTokens), "a remote prefill's blocks must fill the prompt")
        }
        var r = request
        r.status = .waiting
        r.updateBlockHashes(blockSize: blockSize)
        requests[r.id] = r
        waiting.append(r.id)
    }

    public mutating func schedule() -> SchedulerOutput {
        var output = SchedulerOutput()
        var budget = config.maxNumBatchedTokens

        // Running requests, oldest first.
        var i = 0
        while i < running.count, budget > 0 {
            let id = running[i]
            let r = requests[id]!
            let n = min(r.numTokens - r.numComputedTokens, budget)
            var scheduled = false
            while true {
                if kvCache.allocateSlots(r, numNewTokens: n) != nil {
                    scheduled = true
                    break
                }
                // Out of blocks: preempt the newest running request (possibly this one).
                let victim = running.removeLast()
                preempt(victim)
                output.preempted.append(victim)
                if victim == id { break }
            }
            guard scheduled else { break }
            output.scheduled.append(scheduledRequest(id, numTokens: n))
            budget -= n
            i += 1
        }

        // Waiting requests in arrival order; none if anything was preempted this step.
        while output.preempted.isEmpty, budget > 0, running.count < config.maxNumSeqs, let id = waiting.first {
            var r = requests[id]!
            var hits: (blocks: [Int], tokens: Int) = ([], 0)
            if r.numComputedTokens == 0 { hits = kvCache.computedBlocks(for: r) }
            if case .consume(let remote) = r.kvTransfer {
                guard let load = admitRemote(&r, remote: remote, hits: hits) else { break }
                waiting.removeFirst()
                output.loads.append(load)
                continue
            }
            let remaining = r.numTokens - r.numComputedTokens - hits.tokens
            if !config.enableChunkedPrefill, remaining > budget { break }
            let n = min(remaining, budget)
            guard kvCache.allocateSlots(r, numNewTokens: n, newComputedBlocks: hits.blocks) != nil else { break }
            waiting.removeFirst()
            if r.status == .waiting, r.numComputedTokens == 0 { r.numCachedTokens = hits.tokens }
            r.numComputedTokens += hits.tokens
            r.status = .running
            requests[id] = r
            running.append(id)
            output.scheduled.append(scheduledRequest(id, numTokens: n))
            budget -= n
        }
        return output
    }

    /// Applies a step's results: advances computed tokens, appends sampled tokens, and
    /// finishes requests (their blocks freed) on a stop token, max_tokens or the context end.
    public mutating func updateFromOutput(
        _ output: SchedulerOutput, sampled: [String: Int32]
    ) -> [RequestUpdate] {
        var updates: [RequestUpdate] = []
        for s in output.scheduled {
            guard var r = requests[s.requestId], r.status == .running else { continue }
            r.numComputedTokens += s.numTokens
            var update = RequestUpdate(
                requestId: r.id, newTokenId: nil, finishReason: nil, numPromptTokens: r.numPromptTokens,
                numCachedTokens: r.numCachedTokens, numOutputTokens: r.outputTokenIds.count)
            if s.samples, let token = sampled[r.id] {
                r.appendOutput(token, blockSize: blockSize)
                update.newTokenId = token
                update.numOutputTokens = r.outputTokenIds.count
                if r.parameters.stopTokenIds.contains(token) {
                    update.finishReason = .stop
                } else if r.outputTokenIds.count >= r.parameters.maxTokens || r.numTokens >= config.maxModelLen {
                    update.finishReason = .length
                }
            }
            requests[r.id] = r
            if let reason = update.finishReason { update.held = finish(r.id, reason: reason) }
            updates.append(update)
        }
        return updates
    }

    /// Removes a request and frees its blocks: finished, or ended early (client gone, stop
    /// string, shutdown). A producer's request that ended normally keeps its prompt's blocks,
    /// returned as held until `releaseHeld`. Unknown ids are ignored.
    @discardableResult
    public mutating func finish(_ id: String, reason: FinishReason = .abort) -> HeldPrefill? {
        guard let r = requests.removeValue(forKey: id) else { return nil }
        if let i = running.firstIndex(of: id) { running.remove(at: i) }
        if let i = waiting.firstIndex(of: id) { waiting.remove(at: i) }
        if let i = waitingForRemoteKVs.firstIndex(of: id) {
            waitingForRemoteKVs.remove(at: i)
            endedWhileLoading.insert(id)
            return nil
        }
        guard reason != .abort, r.kvTransfer == .produce, r.numComputedTokens >= r.numPromptTokens else {
            kvCache.free(id)
            return nil
        }
        let blocks = kvCache.hold(id, keeping: kvCache.blocksNeeded(tokens: r.numPromptTokens))
        held.insert(id)
        return HeldPrefill(requestId: id, blockIds: blocks, numTokens: r.numPromptTokens, cachedTokens: r.numCachedTokens)
    }

    /// Frees a held prefill's blocks (its decoder is done, or its lease ran out). False if `id`
    /// holds nothing.
    @discardableResult
    public mutating func releaseHeld(_ id: String) -> Bool {
        guard held.remove(id) != nil else { return false }
        kvCache.free(id)
        return true
    }

    /// How a consumer's pull ended, for the engine to act on.
    public enum LoadOutcome: Sendable, Equatable {
        /// The blocks are in: it rejoins the queue to compute its last prompt token.
        case loaded
        /// The pull failed: it rejoins the queue to prefill locally.
        case recomputing
        /// The pull failed and the policy is to fail: the request is removed.
        case failed
        /// The request had already ended; its blocks are freed now.
        case gone
    }

    /// Ends `id`'s pull: on success its full prompt blocks enter the prefix cache; on failure
    /// it recomputes or is removed.
    public mutating func finishedLoading(_ id: String, success: Bool, recompute: Bool) -> LoadOutcome {
        if endedWhileLoading.remove(id) != nil {
            kvCache.free(id)
            return .gone
        }
        guard var r = requests[id], r.status == .waitingForRemoteKVs,
              let i = waitingForRemoteKVs.firstIndex(of: id) else { return .gone }
        waitingForRemoteKVs.remove(at: i)
        let remote: RemotePrefill? = if case .consume(let remote) = r.kvTransfer { remote } else { nil }
        r.kvTransfer = nil
        r.status = .waiting
        if success {
            r.numComputedTokens = r.numTokens - 1
            // cached_tokens as one engine would have counted them: the producer's prefix-cache
            // hit (the pull moved the rest, which one engine would have computed).
            if let cached = remote?.prefillCachedTokens { r.numCachedTokens = min(cached, r.numPromptTokens) }
            kvCache.cacheBlocks(r, tokens: r.numTokens)
        } else {
            kvCache.free(id)
            r.numComputedTokens = 0
            r.numCachedTokens = 0
            guard recompute else {
                requests[id] = nil
                return .failed
            }
        }
        requests[id] = r
        waiting.prepend(id)
        return success ? .loaded : .recomputing
    }

    public mutating func resetPrefixCache() { kvCache.resetPrefixCache() }

    /// Allocates a consumer request's prompt blocks (its local prefix hits first) without
    /// caching them, and returns the pull that fills the rest; nil if the blocks do not fit.
    private mutating func admitRemote(_ r: inout Request, remote: RemotePrefill, hits: (blocks: [Int], tokens: Int)) -> KVLoad? {
        guard kvCache.allocateSlots(
            r, numNewTokens: r.numTokens - hits.tokens, newComputedBlocks: hits.blocks, delayCaching: true) != nil
        else { return nil }
        r.status = .waitingForRemoteKVs
        r.numCachedTokens = hits.tokens
        r.numComputedTokens = hits.tokens
        requests[r.id] = r
        waitingForRemoteKVs.append(r.id)
        let skip = hits.blocks.count
        return KVLoad(
            requestId: r.id, remote: remote, remoteBlocks: Array(remote.blockIds[skip...]),
            localBlocks: Array(kvCache.blockTable(r.id)[skip...]), skippedBlocks: skip)
    }

    private mutating func preempt(_ id: String) {
        kvCache.free(id)
        var r = requests[id]!
        r.status = .preempted
        r.numComputedTokens = 0
        requests[id] = r
        numPreemptions += 1
        waiting.prepend(id)
    }

    private func scheduledRequest(_ id: String, numTokens n: Int) -> ScheduledRequest {
        let r = requests[id]!
        let start = r.numComputedTokens
        return ScheduledRequest(
            requestId: id, start: start, tokenIds: Array(r.allTokenIds[start..<(start + n)]),
            blockTable: kvCache.blockTable(id), promptLength: r.numPromptTokens, samples: start + n == r.numTokens)
    }
}
