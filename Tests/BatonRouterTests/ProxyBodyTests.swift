// The bodies the router sends upstream, against vLLM's recorded proxy traffic.

import BatonOpenAI
import BatonRouter
import Foundation
import Testing

@Suite struct ProxyBodyTests {
    static func fixture(_ name: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)"))
    }

    static func object(_ data: Data) throws -> [String: JSONValue] {
        guard case .object(let o) = try JSONDecoder().decode(JSONValue.self, from: data) else { throw APIError.invalid("not an object") }
        return o
    }

    @Test func prefillBodyIsVLLMsProxyBody() throws {
        for n in 1...4 {
            let decodeRequest = try Self.object(Self.fixture("demo-\(n)_3_decode_request.json"))
            var client = decodeRequest
            client["kv_transfer_params"] = nil
            client["stream"] = .bool(true)
            client["stream_options"] = .object(["include_usage": .bool(true)])
            client["min_tokens"] = .int(3)
            let body = try ProxyBody(JSONEncoder().encode(JSONValue.object(client)))
            var got = try Self.object(body.split().prefillBytes())
            var want = try Self.object(Self.fixture("demo-\(n)_1_prefill_request.json"))
            #expect(got["stream_options"] == nil && got["min_tokens"] == nil)
            got["stream"] = nil
            want["stream"] = nil
            #expect(got == want, "demo-\(n)")
            #expect(try Self.object(body.split().prefillBytes())["stream"] == .bool(false))
        }
    }

    @Test func maxCompletionTokensIsCappedToo() throws {
        let body = try ProxyBody(Data(#"{"messages":[{"role":"user","content":"hi"}],"max_completion_tokens":50,"max_tokens":50}"#.utf8))
        let p = try Self.object(body.split().prefillBytes())
        #expect(p["max_completion_tokens"] == .int(1) && p["max_tokens"] == .int(1))
        let plain = try ProxyBody(Data(#"{"prompt":"x"}"#.utf8))
        #expect(try Self.object(plain.split().prefillBytes())["max_completion_tokens"] == nil)
    }

    @Test func decodeBodyCarriesThePrefillsParametersVerbatim() throws {
        for n in 1...4 {
            let prefillAnswer = try Self.object(Self.fixture("demo-\(n)_2_prefill_response.json"))
            let params = try #require(prefillAnswer["kv_transfer_params"])
            var client = try Self.object(Self.fixture("demo-\(n)_3_decode_request.json"))
            client["kv_transfer_params"] = nil
            let body = try ProxyBody(JSONEncoder().encode(JSONValue.object(client)))
            let got = try Self.object(body.split().decodeBytes(kvTransferParams: params))
            #expect(got == (try Self.object(Self.fixture("demo-\(n)_3_decode_request.json"))), "demo-\(n)")
            // vLLM's nested block ids and the fields Baton does not know are all still there.
            #expect(got["kv_transfer_params"]?["remote_block_ids"]?.array?.first?.array != nil)
            #expect(got["kv_transfer_params"]?["transfer_mode"] == .string("pull"))
        }
    }

    @Test func clientKVTransferParamsAreStripped() throws {
        let sneaky = Data(#"{"prompt":"x","kv_transfer_params":{"do_remote_prefill":true,"remote_block_ids":[1,2,3],"remote_host":"10.0.0.1"}}"#.utf8)
        let body = try ProxyBody(sneaky)
        #expect(try body.fields["kv_transfer_params"] == nil)
        #expect(try Self.object(body.localBytes)["kv_transfer_params"] == nil)
        #expect(try Self.object(body.split().prefillBytes())["kv_transfer_params"]?["remote_block_ids"] == .null)
        let clean = Data(#"{"prompt":"x",  "max_tokens":3}"#.utf8)
        #expect(try ProxyBody(clean).localBytes == clean, "an untouched body is forwarded byte for byte")
    }

    @Test func badBodiesAre400s() {
        for (bad, says) in [("", "not valid JSON"), ("{", "not valid JSON"), ("[1]", "must be a JSON object"), ("\"text\"", "must be a JSON object"),
                            (#"{"messages":[{"role":1}]}"#, "messages[0].role"), (#"{"prompt":"\ud800"}"#, "'prompt': not a valid string"),
                            (#"{"messages":[{"role":"user","content":"\udc00"}]}"#, "'messages[0].content': not a valid string")] {
            #expect("\(bad)", performing: { try ProxyBody(Data(bad.utf8)) }, throws: { ($0 as? APIError).map { $0.status == 400 && $0.message.contains(says) } ?? false })
        }
    }

    @Test func numbersSurviveTheRoundTrip() throws {
        let body = try ProxyBody(Data(#"{"prompt":"x","temperature":0.7,"top_p":1e-3,"seed":12345678901,"logit_bias":{"50256":-100}}"#.utf8))
        let out = try Self.object(body.split().decodeBytes(kvTransferParams: .null))
        #expect(out["temperature"] == .double(0.7) && out["top_p"] == .double(0.001) && out["seed"] == .int(12_345_678_901))
        #expect(out["logit_bias"]?["50256"] == .int(-100))
    }
}
