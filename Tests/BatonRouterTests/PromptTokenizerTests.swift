// The router's prompt tokens are the engine's: the same tokenizer and chat template, the same
// 400s for bodies without a usable prompt.

import BatonModel
import BatonOpenAI
import BatonRouter
import BatonTesting
import Foundation
import Testing

@Suite struct PromptTokenizerTests {
    @Test func chatAndCompletionTokensMatchTheEngines() throws {
        let file = try RealModel.require()
        let local = try LocalPromptTokenizer(ggufPath: RealModel.path)
        func tokens(_ body: Data, _ kind: RequestKind) throws -> [Int32] { try local.tokens(try ProxyBody(body).prompt.source(kind)) }
        let tokenizer = try Tokenizer(gguf: file)
        let template = try ChatTemplate(gguf: file)
        let chat = Data(#"{"messages":[{"role":"developer","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"Hi "},{"type":"text","text":"there"}]}]}"#.utf8)
        let want = tokenizer.encode(
            template.render([ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: "Hi there")]),
            addSpecial: true, parseSpecial: true)
        #expect(try tokens(chat, .chat) == want)
        let completion = Data(#"{"prompt":"The capital of France is"}"#.utf8)
        #expect(try tokens(completion, .completion) == tokenizer.encode("The capital of France is", addSpecial: true, parseSpecial: true))
        #expect(try tokens(Data(#"{"prompt":[1,2,3]}"#.utf8), .completion) == [1, 2, 3])
        #expect(try tokens(Data(#"{"prompt":[99999999999]}"#.utf8), .completion) == [Int32.max], "out-of-range ids are clamped, not wrapped")
    }

    @Test func bodiesWithoutAPromptAre400s() {
        for (body, kind) in [(#"{"messages":[]}"#, RequestKind.chat), (#"{"messages":"hi"}"#, .chat), (#"{"model":"m"}"#, .completion),
                             (#"{"prompt":{"a":1}}"#, .completion), (#"{"messages":[{"role":"user","content":[{"type":"image_url"}]}]}"#, .chat),
                             (#"{"prompt":"x"}"#, .chat)] {
            #expect(throws: APIError.self, "\(body)") { try ProxyBody(Data(body.utf8)).prompt.source(kind) }
        }
    }
}
