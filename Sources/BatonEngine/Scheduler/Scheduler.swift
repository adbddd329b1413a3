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

import DequeModule

public enum SchedulerError: Error, Equatable, CustomStringConvertible {
    case duplicateId(String)
    case queueFull(Int)
    case emptyPrompt
    case tooLong(prompt: Int, maxTokens: Int, context: Int)
    case exceedsPool(blocks: Int, pool: Int)

    public var description: String {
        switch self {
        case .duplicateId(let id): "a request with id '\(id)' is already running"
        case .queueFull(let n): "the waiting queue is full (\(n) requests)"
        case .emptyPrompt: "the prompt is empty"
        case .tooLong(let p, let m, let c):
            "this model's maximum context length is \(c) tokens; the prompt has \(p) tokens and max_tokens is \(m) (\(p + m) in total)"
        case .exceedsPool(let b, let pool): "the request needs \(b) KV blocks but the cache has only \(pool)"
        }
    }
}

public struct Scheduler: Sendable {
    public let config: SchedulerConfig
    public private(set) var kvCache: KVCacheManager
    public private(set) var requests: [String: Request] = [:]
    public private(set) var waiting: Deque<String> = []
    public private(set) var running: [String] = []
    public private(set) var numPreemptions = 0

    public init(config: SchedulerConfig, kvCache: KVCacheManager) {
        self.config = config
        self.kvCache = kvCache
    }

    public var blockSize: Int { kvCache.blockSize }
    public var hasUnfinished: Bool { !waiting.isEmpty || !running.isEmpty }

    /// Queues a request; throws if it can never run or the queue is full.
    public mutating func add(_ request: Request) throws(SchedulerError) {
        guard requests[request.id] == nil else { throw .duplicateId(request.id) }
        guard !request.promptTokenIds.isEmpty else { throw .emptyPrompt }
        guard waiting.count < config.maxWaiting else { throw .queueFull(config.maxWaiting) }
        let total = request.numPromptTokens + request.parameters.maxTokens
        guard request.parameters.maxTokens >= 1, total <= config.maxModelLen else {
            throw .tooLong(prompt: request.numPromptTokens, maxTokens: request.parameters.maxTokens, context: config.maxModelLen)
        }
        let blocks = kvCache.blocksNeeded(tokens: total)
        guard blocks <= kvCache.pool.blockCount else { throw .exceedsPool(blocks: blocks, pool: kvCache.pool.blockCount) }
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
            let remaining = r.numTokens - r.numComputedTokens - hits.tokens
            if !config.enableChunkedPrefill, remaining > budget { break }
            let n = min(remaining, budget)
            guard kvCache.allocateSlots(r, numNewTokens: n, newComputedBlocks: hits.blocks) != nil else { break }
            waiting.removeFirst()
            if r.status == .waiting { r.numCachedTokens = hits.tokens }
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
            if let reason = update.finishReason { finish(r.id) }
            updates.append(update)
        }
        return updates
    }

    /// Removes a request and frees its blocks: finished, or ended early (client gone, stop
    /// string, shutdown). Unknown ids are ignored.
    public mutating func finish(_ id: String) {
        guard requests.removeValue(forKey: id) != nil else { return }
        if let i = running.firstIndex(of: id) { running.remove(at: i) }
        if let i = waiting.firstIndex(of: id) { waiting.remove(at: i) }
        kvCache.free(id)
    }

    public mutating func resetPrefixCache() { kvCache.resetPrefixCache() }

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
