// The serving engine: requests come in from any task, one loop thread runs
//
//   schedule() → forward + sample → updateFromOutput() → detokenize, stop strings → stream out
//
// and each request's results flow back through its own AsyncThrowingStream. The scheduler and
// the stream table sit behind one mutex, held only to schedule, to apply a step's results and
// to add or abort requests — never during the forward pass — so callers get admission errors
// (queue full, too long) synchronously. Dropping a stream (client gone) aborts its request and
// frees its blocks.
//
// Prefill/decode split: `LLMEngine+KVHandoff.swift` (the plan from `KVHandoff`, the leases, the
// pulls and their failures).

import BatonModel
import Dispatch
import Logging
import Synchronization

public final class LLMEngine: Sendable {
    public let config: EngineConfig
    public let tokenizer: Tokenizer
    /// The KV memory (a connector reads held blocks from it and writes pulled ones into it).
    public let cache: PagedKVCache
    private let runner: Mutex<ModelRunner>
    let state: Mutex<State>
    let connector = Mutex<(any KVConnector)?>(nil)
    let wakeUp = DispatchSemaphore(value: 0)
    public let metrics: EngineMetrics
    /// Checks `kv_transfer_params` and decides each request's part in a split.
    public let handoff: KVHandoff
    let logger: Logger

    struct Stream {
        var continuation: AsyncThrowingStream<RequestOutput, Error>.Continuation
        var decoder = IncrementalDecoder()
        var stops: StopChecker
        var arrivalTime: Double
        var firstScheduled: Double?
        var lastTokenTime: Double?
        /// nil while a step samples with it: the step owns it then (a copy would share its
        /// buffers, and the step's first change would copy them all, every step).
        var sampler: Sampler?
    }

    struct State {
        var scheduler: Scheduler
        var streams: [String: Stream] = [:]
        /// A producer's held prefills.
        var leases: KVLeaseTable?
        var accepting = true
        var stopping = false
        /// Stop once nothing is left to run.
        var draining = false
    }

    public init(
        model: LlamaModel, tokenizer: Tokenizer, config: EngineConfig, metrics: EngineMetrics = EngineMetrics(),
        logger: Logger = Logger(label: "baton.engine")
    ) throws {
        guard let cache = PagedKVCache(
            config: model.config, blockSize: config.blockSize, blockCount: config.blockCount, dtype: config.kvCacheDType) else {
            throw EngineSetupError(description: "cannot allocate \(config.blockCount) KV blocks")
        }
        guard config.blockCount * config.blockSize >= config.scheduler.maxModelLen else {
            throw EngineSetupError(description:
                "the KV cache holds \(config.blockCount) blocks of \(config.blockSize) tokens, fewer than one \(config.scheduler.maxModelLen)-token context; raise --kv-cache-memory or lower --max-model-len")
        }
        precondition(model.maxBatchTokens >= config.scheduler.maxNumBatchedTokens, "model batch smaller than the token budget")
        precondition(model.maxLogitRows >= config.scheduler.maxNumSeqs, "model logit rows fewer than max sequences")
        self.config = config
        self.tokenizer = tokenizer
        self.metrics = metrics
        self.logger = logger
        handoff = KVHandoff(config: config.kvTransfer, blockSize: config.blockSize)
        self.cache = cache
        runner = Mutex(ModelRunner(model: model, cache: cache))
        let kv = KVCacheManager(blockCount: config.blockCount, blockSize: config.blockSize, enablePrefixCaching: config.enablePrefixCaching)
        var initial = State(scheduler: Scheduler(config: config.scheduler, kvCache: kv))
        if let transfer = config.kvTransfer, transfer.role.produces { initial.leases = KVLeaseTable(leaseSeconds: transfer.leaseSeconds) }
        state = Mutex(initial)
    }

    // MARK: Requests

    /// Queues `request`; its outputs arrive on the returned stream, which ends after the output
    /// carrying a finish reason. Throws at once if it cannot be admitted.
    public func generate(_ request: EngineRequest) throws(EngineError) -> RequestStream {
        let (stream, continuation) = AsyncThrowingStream<RequestOutput, Error>.makeStream()
        let id = request.id
        let connector = self.connector.withLock { $0 }
        let plan = plan(request, connected: connector != nil)
        let intent = try intent(plan, requestId: id)
        // Before the scheduler can start its pull (which ends the heartbeats).
        if case .consume(let remote) = intent { connector?.requestAdded(id, remote: remote) }
        let result: Result<Void, EngineError> = state.withLock { s in
            guard s.accepting else { return .failure(.shuttingDown) }
            do throws(SchedulerError) {
                try s.scheduler.add(Request(id: id, promptTokenIds: request.promptTokenIds, parameters: request.parameters, kvTransfer: intent))
            } catch {
                return .failure(.rejected(error))
            }
            s.streams[id] = Stream(
                continuation: continuation, stops: StopChecker(stopStrings: request.parameters.stopStrings),
                arrivalTime: request.arrivalTime,
                sampler: Sampler(request.parameters.sampling, prompt: request.promptTokenIds))
            return .success(())
        }
        if case .failure(let e) = result {
            connector?.requestEnded(id)  // not pulling after all: the producer may free the blocks now
            continuation.finish()
            throw e
        }
        admitted(plan, requestId: id)
        continuation.onTermination = { [weak self] termination in
            if case .cancelled = termination { self?.abort(id) }
        }
        wakeUp.signal()
        return RequestStream(base: stream, requestId: id, engine: self)
    }

    /// Ends a request now and frees its blocks; its stream finishes. Unknown ids are ignored.
    public func abort(_ id: String) {
        let stream: Stream? = state.withLock { s in
            s.scheduler.finish(id)
            let stream = s.streams.removeValue(forKey: id)
            if let stream { metrics.requestFinished(reason: .abort, e2e: monotonicSeconds() - stream.arrivalTime) }
            updateGauges(s)
            return stream
        }
        connector.withLock { $0 }?.requestEnded(id)
        stream?.continuation.finish()
    }

    // MARK: The loop

    /// Runs steps on the calling thread until `stop()`; sleeps while there is nothing to do.
    public func runLoop() {
        while true {
            // The samplers of the requests that sample this step, moved out of their streams
            // (apply moves them back).
            var samplers: [String: Sampler] = [:]
            let (output, logprobs, stopping) = state.withLock { s -> (SchedulerOutput, [String: Int], Bool) in
                if s.draining, !s.scheduler.hasUnfinished { s.stopping = true }
                guard !s.stopping else { return (SchedulerOutput(), [:], true) }
                expireLeases(&s)
                let output = s.scheduler.schedule()
                var logprobs: [String: Int] = [:]
                let now = monotonicSeconds()
                for r in output.scheduled {
                    // Changed in place (a copy taken out and written back would copy its buffers).
                    guard let stream = s.streams.index(forKey: r.requestId) else { continue }
                    if s.streams.values[stream].firstScheduled == nil {
                        s.streams.values[stream].firstScheduled = now
                        metrics.queueTime.record(now - s.streams.values[stream].arrivalTime)
                    }
                    if r.samples, let sampler = s.streams.values[stream].sampler.take() {
                        samplers[r.requestId] = sampler
                        if let n = s.scheduler.requests[r.requestId]?.parameters.logprobs { logprobs[r.requestId] = n }
                    }
                }
                metrics.preemptions.increment(by: output.preempted.count)
                return (output, logprobs, false)
            }
            if stopping { break }
            if !output.loads.isEmpty, let connector = connector.withLock({ $0 }) {
                for load in output.loads { connector.startLoad(load) }
            }
            if output.isEmpty, !output.loads.isEmpty { continue }
            if output.isEmpty {
                _ = wakeUp.wait(timeout: .now() + .milliseconds(100))
                continue
            }
            let sampled = runner.withLock { $0.execute(output, samplers: &samplers, logprobs: logprobs) }
            apply(output, sampled: sampled, samplers: samplers)
        }
        abortAll()
    }

    private func apply(_ output: SchedulerOutput, sampled: [String: SampledToken], samplers: [String: Sampler]) {
        var deliveries: [(AsyncThrowingStream<RequestOutput, Error>.Continuation, RequestOutput, Bool)] = []
        state.withLock { s in
            let updates = s.scheduler.updateFromOutput(output, sampled: sampled.mapValues(\.token))
            // The samplers back into their streams (those still running), before any update.
            for (id, sampler) in samplers { s.streams[id]?.sampler = sampler }
            let now = monotonicSeconds()
            for u in updates {
                // Moved out of the table while it changes (not copied), and back if it goes on.
                guard let token = u.newTokenId, var stream = s.streams.removeValue(forKey: u.requestId) else { continue }
                var out = RequestOutput(
                    text: "", tokenIds: [token], logprobs: sampled[u.requestId]?.logprob.map { [$0] } ?? [],
                    finishReason: u.finishReason, stopReason: nil, promptTokens: u.numPromptTokens,
                    cachedTokens: u.numCachedTokens, completionTokens: u.numOutputTokens)
                if let last = stream.lastTokenTime {
                    metrics.interTokenLatency.record(now - last)
                } else {
                    metrics.timeToFirstToken.record(now - stream.arrivalTime)
                    metrics.promptTokens.increment(by: u.numPromptTokens)
                }
                stream.lastTokenTime = now
                metrics.generationTokens.increment()

                let isStopToken = u.finishReason == .stop
                if isStopToken { out.stopReason = .token(token) }
                let piece = isStopToken ? "" : stream.decoder.append(token, tokenizer: tokenizer)
                var (text, stopString) = stream.stops.append(piece)
                if let stopString, u.finishReason == nil {
                    out.finishReason = .stop
                    out.stopReason = .string(stopString)
                    out.held = s.scheduler.finish(u.requestId, reason: .stop)
                } else {
                    out.held = u.held
                }
                if let held = out.held { grantLease(held, state: &s, now: now) }
                if out.finishReason != nil, stopString == nil {
                    text += stream.stops.append(stream.decoder.flush()).text + stream.stops.flush()
                }
                out.text = text
                if let reason = out.finishReason {
                    metrics.requestFinished(reason: reason, e2e: now - stream.arrivalTime)
                    deliveries.append((stream.continuation, out, true))
                } else {
                    s.streams[u.requestId] = stream
                    deliveries.append((stream.continuation, out, false))
                }
            }
            updateGauges(s)
        }
        for (continuation, out, last) in deliveries {
            continuation.yield(out)
            if last { continuation.finish() }
        }
    }

    func updateGauges(_ s: State) {
        metrics.running.record(s.scheduler.running.count)
        metrics.waiting.record(s.scheduler.waiting.count)
        metrics.kvCacheUsage.record(s.scheduler.kvCache.usage)
        metrics.promptTokensQueued.record(s.scheduler.queuedPromptTokens)
        metrics.kvBlocksHeld.record(s.leases?.heldBlockCount ?? 0)
        metrics.recordPrefixCache(queries: s.scheduler.kvCache.prefixCacheQueries, hits: s.scheduler.kvCache.prefixCacheHits)
    }

    // MARK: Lifecycle

    /// Refuses new requests and ends the loop once the running ones are done.
    public func drain() {
        state.withLock { $0.draining = true; $0.accepting = false }
        wakeUp.signal()
    }

    /// Ends the loop; every unfinished request is aborted.
    public func stop() {
        state.withLock { $0.stopping = true; $0.accepting = false }
        wakeUp.signal()
    }

    private func abortAll() {
        let streams = state.withLock { s -> [String: Stream] in
            for (id, stream) in s.streams {
                s.scheduler.finish(id)
                metrics.requestFinished(reason: .abort, e2e: monotonicSeconds() - stream.arrivalTime)
            }
            for id in s.leases?.leases.keys.sorted() ?? [] {
                _ = s.leases?.release(id)
                s.scheduler.releaseHeld(id)
            }
            defer { s.streams.removeAll() }
            updateGauges(s)
            return s.streams
        }
        let connector = connector.withLock { $0 }
        for (id, stream) in streams {
            connector?.requestEnded(id)
            stream.continuation.finish(throwing: EngineError.aborted)
        }
    }

    // MARK: Introspection

    public struct Snapshot: Sendable, Equatable {
        public var running: Int
        public var waiting: Int
        public var kvCacheUsage: Double
        public var freeBlocks: Int
        public var cachedBlocks: Int
        public var referencedBlocks: Int
        /// Blocks held for remote decoders (producer).
        public var heldBlocks: Int
        /// Requests whose KV is being pulled (consumer).
        public var loading: Int
    }

    public var snapshot: Snapshot {
        state.withLock { s in
            let pool = s.scheduler.kvCache.pool
            return Snapshot(
                running: s.scheduler.running.count, waiting: s.scheduler.waiting.count,
                kvCacheUsage: pool.usage, freeBlocks: pool.freeBlockCount, cachedBlocks: pool.cachedBlockCount,
                referencedBlocks: pool.blockCount - pool.freeBlockCount, heldBlocks: s.leases?.heldBlockCount ?? 0,
                loading: s.scheduler.waitingForRemoteKVs.count)
        }
    }

    /// Frees the cached contents of every free block.
    public func resetPrefixCache() { state.withLock { s in s.scheduler.resetPrefixCache() } }
}
