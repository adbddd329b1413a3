// `KVTransferServices.make` enforces the secret rule for every caller: a KV server beyond
// loopback without a secret is refused with the rule's words; with a secret, or on loopback,
// the server is built.

import BatonEngine
import BatonKVTransfer
import BatonModel
import BatonOpenAI
import BatonTesting
import Logging
import ServiceLifecycle
import Testing

@Suite struct KVTransferServicesTests {
    @Test func aProducerBeyondLoopbackWithoutASecretIsRefused() throws {
        _ = try RealModel.require()
        let scheduler = SchedulerConfig(maxNumSeqs: 2, maxNumBatchedTokens: 64, maxModelLen: 256)
        let serving = try ServingModel.load(path: RealModel.path, threads: 1, scheduler: scheduler)
        func make(_ transfer: KVTransferConfig) throws -> [any Service] {
            let engine = try LLMEngine(
                model: serving.model, tokenizer: serving.tokenizer,
                config: EngineConfig(scheduler: serving.scheduler, blockCount: 64, servedModelName: "smollm2", kvTransfer: transfer))
            let compatibility = KVCompatibility(modelFingerprint: "test", model: serving.model.config, config: engine.config)
            return try KVTransferServices.make(engine: engine, config: transfer, compatibility: compatibility, logger: Logger(label: "test"))
        }
        let open = KVTransferConfig(role: .producer, engineId: "p", host: "0.0.0.0", port: 0)
        guard case .refuse(let why) = open.secretCheck() else {
            Issue.record("the rule lets \(open) through")
            return
        }
        #expect(throws: KVTransferSetupError(why)) { try make(open) }
        #expect(why.contains("has no secret") && why.contains("--kv-secret"))
        var withSecret = open
        withSecret.secret = "s"
        #expect(try make(withSecret).count == 1, "the transfer server")
        var loopback = open
        loopback.host = "127.0.0.1"
        #expect(try make(loopback).count == 1, "the transfer server (with a warning)")
    }
}
