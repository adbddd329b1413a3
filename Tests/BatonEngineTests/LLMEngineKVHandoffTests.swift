// `LLMEngine+KVHandoff.swift` at admission: remote KV that cannot be used is logged and counted
// in `baton_kv_load_failures_total` once the scheduler took the request, never for a request it
// rejected (a duplicate id, a full queue); a consumer without a connector refused under `fail`
// is a server error, not the request's.

import BatonEngine
import BatonModel
import BatonOpenAI
import BatonTesting
import CoreMetrics
import Synchronization
import Testing

/// Counters by label and `reason`; everything else dropped.
private final class CountingMetrics: MetricsFactory, Sendable {
    final class Count: CounterHandler, Sendable {
        let value = Mutex<Int64>(0)
        func increment(by amount: Int64) { value.withLock { $0 += amount } }
        func reset() { value.withLock { $0 = 0 } }
    }
    let counters = Mutex<[String: Count]>([:])

    func count(_ label: String, reason: String) -> Int64 {
        counters.withLock { $0["\(label)/\(reason)"] }?.value.withLock { $0 } ?? 0
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        let reason = dimensions.first { $0.0 == "reason" }?.1 ?? ""
        return counters.withLock { c in
            if let existing = c["\(label)/\(reason)"] { return existing }
            let new = Count()
            c["\(label)/\(reason)"] = new
            return new
        }
    }
    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler { NOOPMetricsHandler.instance }
    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler { NOOPMetricsHandler.instance }
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}
}

/// A consumer engine without a connector and without its loop (admitted requests stay queued).
private func consumer(_ policy: KVLoadFailurePolicy, maxWaiting: Int, metrics: CountingMetrics) throws -> LLMEngine {
    _ = try RealModel.require()
    let scheduler = SchedulerConfig(maxNumSeqs: 2, maxNumBatchedTokens: 64, maxModelLen: 256, maxWaiting: maxWaiting)
    let serving = try ServingModel.load(path: RealModel.path, threads: 1, scheduler: scheduler)
    return try LLMEngine(
        model: serving.model, tokenizer: serving.tokenizer,
        config: EngineConfig(
            scheduler: serving.scheduler, blockCount: 64, servedModelName: "smollm2",
            kvTransfer: KVTransferConfig(role: .consumer, engineId: "c", loadFailurePolicy: policy)),
        metrics: EngineMetrics(modelName: "smollm2", factory: metrics))
}

/// A 3-token prompt whose KV a producer holds in one block.
private func pulled(_ id: String) -> EngineRequest {
    EngineRequest(
        id: id, promptTokenIds: [1, 2, 3], parameters: RequestParameters(maxTokens: 2),
        kvTransferParams: KVTransferParams(
            doRemotePrefill: true, remoteEngineId: "p", remoteRequestId: "p-\(id)", remoteBlockIds: [0],
            remoteHost: "127.0.0.1", remotePort: 1))
}

@Suite(.serialized) struct LLMEngineKVHandoffTests {
    @Test func aRecomputeIsCountedOnlyOnceTheSchedulerTookTheRequest() throws {
        let metrics = CountingMetrics()
        let engine = try consumer(.recompute, maxWaiting: 1, metrics: metrics)
        let first = try engine.generate(pulled("a"))
        #expect(metrics.count("baton_kv_load_failures_total", reason: "not_connected") == 1)
        #expect(throws: EngineError.rejected(.duplicateId("a"))) { try engine.generate(pulled("a")) }
        #expect(throws: EngineError.rejected(.queueFull(1))) { try engine.generate(pulled("b")) }
        #expect(metrics.count("baton_kv_load_failures_total", reason: "not_connected") == 1, "the rejected ones recomputed nothing")
        withExtendedLifetime(first) {}
    }

    @Test func aConsumerWithoutAConnectorRefusesAsAServerError() throws {
        let metrics = CountingMetrics()
        let engine = try consumer(.fail, maxWaiting: 4, metrics: metrics)
        #expect(throws: EngineError.kvLoadFailed(KVLoadFailure(
            .notConnected, "this engine is a KV consumer without a KV connector to pull with (a server misconfiguration)."))) {
            try engine.generate(pulled("a"))
        }
        #expect(metrics.count("baton_kv_load_failures_total", reason: "not_connected") == 1)
        // The request's own bad parameters stay a client error.
        var bad = pulled("b")
        bad.kvTransferParams?.remoteBlockIds = [0, 1]
        #expect(throws: EngineError.kvTransferRefused(KVLoadFailure(
            .blockCountMismatch, "kv_transfer_params.remote_block_ids names 2 blocks, but the prompt fills 1 blocks of 16 tokens."))) {
            try engine.generate(bad)
        }
    }
}
