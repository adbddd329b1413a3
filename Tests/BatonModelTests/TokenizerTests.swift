// The tokenizer on the tiny vocabulary (merges, specials, byte fallback, pre-tokenizer pieces)
// and streaming decode; the real vocabulary is checked against llama.cpp in
// TokenizerReferenceTests.

import BatonTesting
import Testing
@testable import BatonModel

@Suite struct TokenizerTests {
    static let tokenizer: Tokenizer = {
        var tiny = TinyLlama()
        let file = try! GGUFFile(storage: MappedFile(bytes: tiny.makeFile()))
        return try! Tokenizer(gguf: file)
    }()

    func id(_ text: String) -> Int32 { Self.tokenizer.tokenId(of: text)! }

    @Test func mergesApplyByRank() {
        let t = Self.tokenizer
        #expect(t.encode("hello") == [id("hello")])
        #expect(t.encode("hell") == [id("hell")])
        #expect(t.encode(" the") == [id("Ġthe")])
        #expect(t.encode("or") == [id("or")])
        #expect(t.encode("xyz") == [id("x"), id("y"), id("z")])
    }

    @Test func specialTokensOnlyWhenAsked() {
        let t = Self.tokenizer
        #expect(t.encode("<|im_start|>hello", parseSpecial: true) == [1, id("hello")])
        #expect(t.encode("<|im_start|>", parseSpecial: false).count > 1)
        #expect(t.encode("a<|im_end|><|im_end|>b", parseSpecial: true) == [id("a"), 2, 2, id("b")])
        #expect(t.decode([1, id("hello")]) == "hello")
        #expect(t.decode([1, id("hello")], special: true) == "<|im_start|>hello")
    }

    @Test func asciiScalarClassesMatchTheUnicodeTables() {
        for v in UInt8(0)...UInt8(127) {
            let s = Unicode.Scalar(v)
            var expected: ScalarClass = []
            switch s.properties.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: expected.insert(.letter)
            case .decimalNumber, .letterNumber, .otherNumber: expected.insert(.number)
            default: break
            }
            if s.properties.isWhitespace { expected.insert(.whitespace) }
            #expect(ScalarClass(s) == expected, "scalar \(v)")
        }
    }

    @Test func preTokenizerSplitsDigitsAndContractions() {
        func pieces(_ s: String) -> [String] {
            let scalars = Array(s.unicodeScalars)
            return PreTokenizer.split(scalars).map { r in String(String.UnicodeScalarView(scalars[r])) }
        }
        #expect(pieces("abc 123") == ["abc", " ", "1", "2", "3"])
        #expect(pieces("don't stop") == ["don", "'t", " stop"])
        #expect(pieces("I'M") == ["I", "'", "M"])
        #expect(pieces("a   b") == ["a", "  ", " b"])
        #expect(pieces("x  \n") == ["x", "  \n"])
        #expect(pieces("hi!!! ok") == ["hi", "!!!", " ok"])
        #expect(pieces("été 東京") == ["été", " 東京"])
    }

    @Test func roundTripsArbitraryText() {
        let t = Self.tokenizer
        for s in ["", "hello world", "é東京🙂👩‍👩‍👧", "  \t\n x", "'s 'll ''", "\u{0}\u{7f}"] {
            #expect(t.decode(t.encode(s)) == s)
        }
    }

    @Test func incrementalDecodingNeverSplitsACharacter() {
        let t = Self.tokenizer
        let text = "a東🙂b"
        let ids = t.encode(text)   // byte tokens: multi-byte characters span several ids
        #expect(ids.count == 1 + 3 + 4 + 1)
        var decoder = IncrementalDecoder()
        var outputs: [String] = []
        for id in ids { outputs.append(decoder.append(id, tokenizer: t)) }
        #expect(outputs.joined() == text)
        #expect(outputs == ["a", "", "", "東", "", "", "", "🙂", "b"])
        // A dangling lead byte is flushed as U+FFFD.
        var d2 = IncrementalDecoder()
        #expect(d2.append(t.encode("東")[0], tokenizer: t) == "")
        #expect(d2.flush() == "\u{FFFD}")
    }
}

@Suite struct ChatTemplateTests {
    static let smolTemplate = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"

    @Test func rendersChatMLWithTheDefaultSystemPrompt() throws {
        let t = try ChatTemplate(source: Self.smolTemplate)
        #expect(t.defaultSystemPrompt == "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
        #expect(t.render([ChatMessage(role: "user", content: "Hi")]) ==
            "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        #expect(t.render([ChatMessage(role: "system", content: "S"), ChatMessage(role: "user", content: "Q"), ChatMessage(role: "assistant", content: "A")], addGenerationPrompt: false) ==
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\nA<|im_end|>\n")
    }

    @Test func unknownTemplatesAreRefused() {
        #expect(throws: ChatTemplateError.missing) { try ChatTemplate(source: nil) }
        #expect(throws: ChatTemplateError.self) { try ChatTemplate(source: "{{ bos_token }}[INST] {{ message['content'] }} [/INST]") }
    }
}
