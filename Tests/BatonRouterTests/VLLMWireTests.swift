// The router in front of vLLM, proven on vLLM's own recorded wire format: fake engines answer
// with the bodies vLLM 0.32 sent its proxy (Fixtures/), and the router must send exactly the
// requests vLLM's proxy sent (nested remote_block_ids, tp_size, fields Baton does not know).

import BatonOpenAI
import BatonRouter
import BatonTesting
import Foundation
import Testing

@Suite struct VLLMWireTests {
    static func fixture(_ name: String) throws -> Data { try ProxyBodyTests.fixture(name) }
    static func object(_ data: Data) throws -> [String: JSONValue] { try ProxyBodyTests.object(data) }

    /// One recorded exchange: the client's body, then what each engine got and said.
    struct Exchange {
        var path: String
        var client: Data
        var prefillRequest: Data, prefillResponse: Data
        var decodeRequest: Data, decodeResponse: Data
    }

    static func exchanges() throws -> [Exchange] {
        var out: [Exchange] = []
        for n in 1...4 {
            let decodeRequest = try fixture("demo-\(n)_3_decode_request.json")
            var client = try object(decodeRequest)
            client["kv_transfer_params"] = nil
            out.append(Exchange(
                path: "/v1/completions", client: try JSONEncoder().encode(JSONValue.object(client)),
                prefillRequest: try fixture("demo-\(n)_1_prefill_request.json"), prefillResponse: try fixture("demo-\(n)_2_prefill_response.json"),
                decodeRequest: decodeRequest, decodeResponse: try fixture("demo-\(n)_4_decode_response.json")))
        }
        let prefill = try object(fixture("chat-1_prefill.json")), decode = try object(fixture("chat-1_decode.json"))
        let encode = { (v: JSONValue?) throws -> Data in try JSONEncoder().encode(v ?? .null) }
        var client = decode["request"]?.object ?? [:]
        client["kv_transfer_params"] = nil
        out.append(Exchange(
            path: "/v1/chat/completions", client: try JSONEncoder().encode(JSONValue.object(client)),
            prefillRequest: try encode(prefill["request"]), prefillResponse: try encode(prefill["response"]),
            decodeRequest: try encode(decode["request"]), decodeResponse: try encode(decode["response"])))
        return out
    }

    @Test func routerSpeaksVLLMsRecordedProtocol() async throws {
        for (i, ex) in try Self.exchanges().enumerated() {
            let p = try await FakeUpstream.start { _ in .json(status: 200, body: ex.prefillResponse) }
            let d = try await FakeUpstream.start { _ in .json(status: 200, body: ex.decodeResponse) }
            let router = try await LiveRouter.start(prefill: [p.url], decode: [d.url]) { $0.splitThreshold = 0 }
            let answer = try await router.post(ex.path, String(decoding: ex.client, as: UTF8.self))
            await router.stop()
            p.stop()
            d.stop()
            #expect(answer.status == 200, "exchange \(i)")
            #expect(try Self.object(Data(answer.body.utf8)) == (try Self.object(ex.decodeResponse)), "exchange \(i): the client gets the decode's body")
            let pre = try #require(p.received.first), dec = try #require(d.received.first)
            #expect(try Self.object(pre.body) == (try Self.object(ex.prefillRequest)), "exchange \(i): prefill request")
            #expect(try Self.object(dec.body) == (try Self.object(ex.decodeRequest)), "exchange \(i): decode request")
            #expect(pre.path == ex.path && dec.path == ex.path)
            #expect(pre.headers["x-request-id"] != nil && pre.headers["x-request-id"] == dec.headers["x-request-id"])
        }
    }
}
