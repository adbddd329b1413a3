// Request bodies: the shared fields and each endpoint's own decode from one JSON object, and
// encode back to the same keys (what a proxy forwards).

import BatonOpenAI
import Foundation
import Testing

@Suite struct RequestCodingTests {
    @Test func chatRequestSplitsSharedAndOwnFieldsAndRoundTrips() throws {
        let json = #"{"model":"smollm2","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"max_completion_tokens":5,"top_k":3,"stop":"x","stream":true,"stream_options":{"include_usage":true},"logprobs":true,"top_logprobs":2,"kv_transfer_params":{"do_remote_decode":true,"remote_block_ids":[1,2],"extra":1}}"#
        let r = try JSONDecoder().decode(ChatCompletionRequest.self, from: Data(json.utf8))
        #expect(r.messages.first?.content?.text == "hi")
        #expect(r.maxCompletionTokens == 5 && r.logprobs == true && r.topLogprobs == 2)
        #expect(r.sampling.model == "smollm2" && r.sampling.topK == 3 && r.sampling.stop == .one("x"))
        #expect(r.sampling.streamOptions?.includeUsage == true)
        #expect(r.sampling.kvTransferParams?.remoteBlockIds == [1, 2])
        let again = try JSONSerialization.jsonObject(with: JSONEncoder().encode(r)) as! [String: Any]
        #expect(Set(again.keys) == ["model", "messages", "max_completion_tokens", "top_k", "stop", "stream", "stream_options", "logprobs", "top_logprobs", "kv_transfer_params"])
    }

    @Test func completionRequestTakesTokenPromptsAndNamesBadFields() throws {
        let r = try JSONDecoder().decode(CompletionRequest.self, from: Data(#"{"prompt":[1,2,3],"max_tokens":4,"logprobs":1}"#.utf8))
        #expect(r.prompt == .tokens([1, 2, 3]) && r.sampling.maxTokens == 4 && r.logprobs == 1)
        do {
            _ = try JSONDecoder().decode(CompletionRequest.self, from: Data(#"{"prompt":"a","temperature":"hot"}"#.utf8))
            Issue.record("a string temperature decoded")
        } catch {
            #expect(APIError.decoding(error).param == "temperature")
        }
    }

    /// Foundation reports an integer field given 2.5 or 2^70 as a body that is not JSON at all;
    /// the 400 names the field instead.
    @Test func aValueThatDoesNotFitItsFieldIsNamed() {
        func failure<T: Decodable>(_ type: T.Type, _ json: String) -> APIError? {
            do {
                _ = try APIError.decodingBody(T.self, from: Data(json.utf8))
                return nil
            } catch { return error }
        }
        let fraction = failure(CompletionRequest.self, #"{"prompt":"a","temperature":0.5,"max_tokens":2.5}"#)
        #expect(fraction?.param == "max_tokens" && fraction?.message.contains("2.5") == true, "\(String(describing: fraction))")
        let big = failure(CompletionRequest.self, #"{"prompt":"a","seed":1180591620717411303424,"top_p":0.9}"#)
        #expect(big?.param == "seed", "\(String(describing: big))")
        // A bad value after the required key in decoding order: removing the required key fails
        // for that key, which must not be taken for the culprit.
        let late = failure(ChatCompletionRequest.self, #"{"messages":[{"role":"user","content":"hi"}],"top_k":3.5}"#)
        #expect(late?.param == "top_k", "\(String(describing: late))")
        let bad = failure(CompletionRequest.self, #"{"prompt":"a","#)
        #expect(bad?.code == "invalid_json" && bad?.param == nil)
        #expect(failure(CompletionRequest.self, "[1]")?.message == "The request body must be a JSON object.")
        #expect(failure(CompletionRequest.self, "null")?.message == "The request body must be a JSON object.")
        #expect(failure(CompletionRequest.self, #"{"prompt":"a","max_tokens":3}"#) == nil)
    }

    /// A string Foundation cannot read is named as such, not as the last kind a field of several
    /// kinds tried.
    @Test func anUnreadableStringIsNamed() {
        func failure<T: Decodable>(_ type: T.Type, _ data: Data) -> APIError? {
            do {
                _ = try APIError.decodingBody(T.self, from: data)
                return nil
            } catch { return error }
        }
        let invalidUTF8 = Data(#"{"prompt":"a"#.utf8) + [0xFF, 0xFE] + Data(#""}"#.utf8)
        for (type, data, param) in [
            (CompletionRequest.self as any Decodable.Type, invalidUTF8, "prompt"),
            (CompletionRequest.self, Data(#"{"prompt":"\ud800"}"#.utf8), "prompt"),
            (ChatCompletionRequest.self, Data(#"{"messages":[{"role":"user","content":"\udc00x"}]}"#.utf8), "messages[0].content"),
            (CompletionRequest.self, Data(#"{"prompt":"a","stop":"\ud800"}"#.utf8), "stop"),
        ] {
            let e = failure(type, data)
            #expect(e?.param == param && e?.message.contains("not a valid string") == true, "\(String(describing: e))")
        }
        let kind = failure(CompletionRequest.self, Data(#"{"prompt":5}"#.utf8))
        #expect(kind?.message == "'prompt': expected a string, a list of strings, or token ids.", "\(String(describing: kind))")
        let content = failure(ChatCompletionRequest.self, Data(#"{"messages":[{"role":"user","content":5}]}"#.utf8))
        #expect(content?.message == "'messages[0].content': expected a string or a list of content parts.", "\(String(describing: content))")
    }

    @Test func kvTransferParamsTakeVLLMsCapturedBodies() throws {
        // vLLM 0.32's decode request, as captured (Tests/BatonRouterTests/Fixtures/demo-1_3_decode_request.json): block
        // ids nested one level, extra fields Baton does not use.
        let captured = #"{"do_remote_prefill":true,"do_remote_decode":false,"remote_block_ids":[[1]],"remote_engine_id":"5259d1e7","remote_request_id":"cmpl-demo-1-0-a3f73e8c","remote_host":"127.0.0.1","remote_port":5600,"tp_size":1,"dcp_size":1,"pp_size":1,"remote_num_tokens":99,"remote_blocks_expiry_time":null,"transfer_mode":"pull","remote_prefill_cached_tokens":0}"#
        let p = try JSONDecoder().decode(KVTransferParams.self, from: Data(captured.utf8))
        #expect(p.doRemotePrefill == true && p.doRemoteDecode == false)
        #expect(p.remoteBlockIds == [1])
        #expect(p.remoteEngineId == "5259d1e7" && p.remoteRequestId == "cmpl-demo-1-0-a3f73e8c")
        #expect(p.remoteHost == "127.0.0.1" && p.remotePort == 5600 && p.remoteNumTokens == 99)
        let flat = try JSONDecoder().decode(KVTransferParams.self, from: Data(#"{"remote_block_ids":[4,5,6]}"#.utf8))
        #expect(flat.remoteBlockIds == [4, 5, 6])
        let none = try JSONDecoder().decode(KVTransferParams.self, from: Data(#"{"do_remote_decode":true,"remote_block_ids":null}"#.utf8))
        #expect(none.remoteBlockIds == nil && none.doRemoteDecode == true)
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(KVTransferParams.self, from: Data(#"{"remote_block_ids":[[1],[2]]}"#.utf8))
        }
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(KVTransferParams.self, from: Data(#"{"remote_block_ids":"1,2"}"#.utf8))
        }
    }
}
