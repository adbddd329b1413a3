// The handoff in one process, on the real model: a producer engine with its transfer server, a
// consumer engine with its connector, over loopback TCP. The consumer's greedy output equals the
// producer's own, pulled blocks land in the consumer's prefix cache, DONE frees the producer's
// blocks at once, and a consumer that cannot pull (wrong secret) recomputes and still answers
// right while the producer frees by lease. (The multi-process checks are in pd_e2e.py.)

import BatonEngine
import BatonKVTransfer
import BatonModel
import BatonOpenAI
import BatonTesting
import Logging
import Synchronization
import Testing

private struct Pair {
    let producer: LLMEngine
    let consumers: [LLMEngine]
    let serving: ServingModel
    let producerConfig: KVTransferConfig
    let port: Int
}

private func engine(_ serving: ServingModel, _ transfer: KVTransferConfig) throws -> LLMEngine {
    try LLMEngine(
        model: serving.model, tokenizer: serving.tokenizer,
        config: EngineConfig(scheduler: serving.scheduler, blockCount: 256, servedModelName: "smollm2", kvTransfer: transfer))
}

/// Runs `body` with a producer and one consumer per secret in `consumerSecrets`.
private func withPair(consumerSecrets: [String], _ body: @Sendable (Pair) async throws -> Void) async throws {
    _ = try RealModel.require()
    let scheduler = SchedulerConfig(maxNumSeqs: 8, maxNumBatchedTokens: 256, maxModelLen: 1024)
    let serving = try ServingModel.load(path: RealModel.path, threads: 2, scheduler: scheduler)
    let producerConfig = KVTransferConfig(role: .producer, engineId: "p", port: 0, leaseSeconds: 2, heartbeatSeconds: 0.5, secret: "right")
    let producer = try engine(serving, producerConfig)
    let compatibility = KVCompatibility(
        modelFingerprint: "test", model: serving.model.config, config: producer.config)
    let logger = Logger(label: "test")
    let port = Mutex<Int?>(nil)
    let server = KVTransferServer(engine: producer, config: producerConfig, compatibility: compatibility, logger: logger) { p in
        port.withLock { $0 = p }
    }
    var consumers: [LLMEngine] = []
    var connectors: [BatonConnector] = []
    for (i, secret) in consumerSecrets.enumerated() {
        let config = KVTransferConfig(role: .consumer, engineId: "c\(i)", leaseSeconds: 2, heartbeatSeconds: 0.5, secret: secret)
        let consumer = try engine(serving, config)
        let connector = BatonConnector(engine: consumer, config: config, compatibility: compatibility, logger: logger, pullTimeout: 10)
        consumer.connect(connector)
        consumers.append(consumer)
        connectors.append(connector)
    }
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await server.run() }
        group.addTask { try await EngineService(engine: producer).run() }
        for (consumer, connector) in zip(consumers, connectors) {
            group.addTask { try await EngineService(engine: consumer).run() }
            group.addTask { try await connector.run() }
        }
        var bound: Int?
        for _ in 0..<100 where bound == nil {
            try await Task.sleep(for: .milliseconds(20))
            bound = port.withLock { $0 }
        }
        let pair = Pair(
            producer: producer, consumers: consumers, serving: serving, producerConfig: producerConfig, port: try #require(bound))
        do {
            try await body(pair)
        } catch {
            group.cancelAll()
            throw error
        }
        group.cancelAll()
    }
}

private func run(_ engine: LLMEngine, _ id: String, _ tokens: [Int32], maxTokens: Int, kv: KVTransferParams? = nil, serving: ServingModel) async throws -> RequestOutput {
    let params = RequestParameters(maxTokens: maxTokens, sampling: .greedy, stopTokenIds: serving.endTokenIds)
    var all = RequestOutput()
    for try await out in try engine.generate(EngineRequest(id: id, promptTokenIds: tokens, parameters: params, kvTransferParams: kv)) {
        all.merge(out)
    }
    return all
}

/// Prefill on the producer, then decode on `consumer` from its held blocks.
private func split(_ pair: Pair, consumer: LLMEngine, _ id: String, _ tokens: [Int32], maxTokens: Int) async throws -> (RequestOutput, HeldPrefill) {
    let first = try await run(pair.producer, "\(id)-p", tokens, maxTokens: 1, kv: KVTransferParams(doRemoteDecode: true), serving: pair.serving)
    let held = try #require(first.held)
    #expect(held.numTokens == tokens.count)
    #expect(held.blockIds.count == (tokens.count + 15) / 16)
    // The producer's answer, as the proxy hands it to the decoder (with the port it bound).
    var answer = try #require(pair.producer.handoff.answer(held))
    answer.remotePort = pair.port
    let out = try await run(consumer, "\(id)-d", tokens, maxTokens: maxTokens, kv: answer, serving: pair.serving)
    return (out, held)
}

private func heldBlocksReach(_ engine: LLMEngine, _ value: Int, within seconds: Double) async throws -> Bool {
    let deadline = monotonicSeconds() + seconds
    while monotonicSeconds() < deadline {
        if engine.snapshot.heldBlocks == value { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return engine.snapshot.heldBlocks == value
}

private let story = "In a small village by the sea, there lived an old fisherman who went out every morning before dawn. "

@Suite(.serialized) struct KVHandoffTests {
    @Test func splitOutputEqualsOneEngineAndDoneFreesAtOnce() async throws {
        try await withPair(consumerSecrets: ["right"]) { pair in
            let consumer = pair.consumers[0]
            let tok = pair.serving.tokenizer
            let prompts = [
                tok.encode("The capital of France is", addSpecial: true),
                tok.encode(String(repeating: story, count: 6) + "One day,", addSpecial: true),
                tok.encode(String(repeating: story, count: 6) + "Then a storm came and", addSpecial: true),
            ]
            for (i, p) in prompts.enumerated() {
                let (pd, held) = try await split(pair, consumer: consumer, "q\(i)", p, maxTokens: 16)
                let alone = try await run(pair.producer, "a\(i)", p, maxTokens: 16, serving: pair.serving)
                #expect(pd.tokenIds == alone.tokenIds, "prompt \(i): split \(pd.tokenIds) vs alone \(alone.tokenIds)")
                #expect(pd.promptTokens == p.count)
                #expect(try await heldBlocksReach(pair.producer, 0, within: 0.5), "DONE frees \(held.blockIds.count) blocks at once")
                if i == 2 {
                    // The third prompt shares its first ~6 stories with the second: the consumer
                    // has them in its prefix cache (entered when pulled) and counts only those.
                    let shared = zip(prompts[1], prompts[2]).prefix { $0 == $1 }.count
                    #expect(pd.cachedTokens == shared / 16 * 16, "cached \(pd.cachedTokens) of a \(shared)-token shared prefix")
                } else {
                    #expect(pd.cachedTokens == 0, "transferred tokens are not cached tokens")
                }
            }
            #expect(consumer.snapshot.loading == 0)
        }
    }

    @Test func aRefusedPullRecomputesAndTheLeaseFreesTheBlocks() async throws {
        try await withPair(consumerSecrets: ["wrong"]) { pair in
            let p = pair.serving.tokenizer.encode(String(repeating: story, count: 3), addSpecial: true)
            let start = monotonicSeconds()
            let (pd, _) = try await split(pair, consumer: pair.consumers[0], "w", p, maxTokens: 12)
            let alone = try await run(pair.producer, "w-alone", p, maxTokens: 12, serving: pair.serving)
            #expect(pd.tokenIds == alone.tokenIds)
            // No DONE or heartbeat can reach the producer: only the lease frees the blocks, and
            // not before it has run out (a loaded machine may take longer to notice).
            #expect(try await heldBlocksReach(pair.producer, 0, within: pair.producerConfig.leaseSeconds + 5))
            #expect(monotonicSeconds() - start >= pair.producerConfig.leaseSeconds)
        }
    }
}
