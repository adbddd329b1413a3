// `Generation` (Routes/Generation.swift) on an engine in this process, without a socket: a
// request this engine cannot pull the KV for, because it is a consumer without a connector,
// is a 500 that says so (the server is misconfigured), while bad `kv_transfer_params` stay a
// 400 naming the field.

import BatonEngine
import BatonModel
import BatonOpenAI
import BatonServer
import BatonTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Prometheus
import Testing

@Suite struct GenerationTests {
    @Test func aConsumerWithoutAConnectorAnswersAServerErrorUnderFail() async throws {
        _ = try RealModel.require()
        let scheduler = SchedulerConfig(maxNumSeqs: 2, maxNumBatchedTokens: 64, maxModelLen: 256)
        let serving = try ServingModel.load(path: RealModel.path, threads: 1, scheduler: scheduler)
        let engine = try LLMEngine(
            model: serving.model, tokenizer: serving.tokenizer,
            config: EngineConfig(
                scheduler: serving.scheduler, blockCount: 64, servedModelName: "smollm2",
                kvTransfer: KVTransferConfig(role: .consumer, engineId: "c", loadFailurePolicy: .fail)))
        let host = EngineHost()
        host.set(EngineHost.Loaded(engine: engine, serving: serving))
        let app = Application(router: EngineServer.router(
            host: host, config: ServerConfig(servedModelName: "smollm2"), registry: PrometheusCollectorRegistry()))
        @Sendable func body(blocks: [Int]) -> ByteBuffer {
            ByteBuffer(string: #"""
                {"model":"smollm2","prompt":[1,2,3],"max_tokens":2,"kv_transfer_params":{"do_remote_prefill":true,
                 "remote_engine_id":"p","remote_request_id":"p-1","remote_block_ids":\#(blocks),"remote_host":"127.0.0.1","remote_port":1}}
                """#)
        }
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/completions", method: .post, body: body(blocks: [0])) { response in
                #expect(response.status == .internalServerError)
                let error = try JSONDecoder().decode(APIError.Body.self, from: Data(buffer: response.body))
                #expect(error.error.type == "internal_error")
                #expect(error.error.param == nil)
                #expect(error.error.message.contains("without a KV connector"), "\(error.error.message)")
            }
            try await client.execute(uri: "/v1/completions", method: .post, body: body(blocks: [0, 1])) { response in
                #expect(response.status == .badRequest)
                let error = try JSONDecoder().decode(APIError.Body.self, from: Data(buffer: response.body))
                #expect(error.error.param == "kv_transfer_params")
            }
        }
    }
}
