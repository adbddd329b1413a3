// The real SmolLM2 tokenizer against llama.cpp's (fixture made by
// scripts/reference/make_tokenizer_reference.py with llama-cpp-python on the same GGUF): exact
// ids for every string, with and without special-token parsing, and lossless round trips.

import BatonTesting
import Testing
@testable import BatonModel

struct TokenizerReference: Decodable {
    struct Case: Decodable {
        let text: String
        let ids: [Int32]
        let ids_special: [Int32]
    }
    let cases: [Case]
}

@Suite struct TokenizerReferenceTests {
    @Test func idsEqualLlamaCpp() throws {
        let tokenizer = try Tokenizer(gguf: try RealModel.require())
        let ref = try RealModel.fixture("tokenizer_reference.json", as: TokenizerReference.self)
        #expect(ref.cases.count >= 300)
        var mismatches = 0
        for c in ref.cases {
            let plain = tokenizer.encode(c.text, parseSpecial: false)
            let special = tokenizer.encode(c.text, parseSpecial: true)
            if plain != c.ids || special != c.ids_special { mismatches += 1 }
            #expect(plain == c.ids, "\(c.text.debugDescription)")
            #expect(special == c.ids_special, "special: \(c.text.debugDescription)")
        }
        print("tokenizer: \(ref.cases.count - mismatches)/\(ref.cases.count) strings equal llama.cpp's ids")
    }

    /// A shared cache of merged pieces (the router's, per event loop) changes no id, also when
    /// it fills and is emptied along the way.
    @Test func cachedPiecesGiveTheSameIds() throws {
        let tokenizer = try Tokenizer(gguf: try RealModel.require())
        let ref = try RealModel.fixture("tokenizer_reference.json", as: TokenizerReference.self)
        var cache = BPECache(capacity: 64)
        var most = 0
        for pass in 0..<2 {
            for c in ref.cases {
                #expect(tokenizer.encode(c.text, parseSpecial: true, cache: &cache) == c.ids_special, "pass \(pass): \(c.text.debugDescription)")
                #expect(tokenizer.encode(c.text, parseSpecial: false, cache: &cache) == c.ids, "pass \(pass): \(c.text.debugDescription)")
                most = max(most, cache.count)
            }
        }
        #expect(most == 64)
    }

    /// Pieces the cache keys by their packed bytes (up to 16) or whole: ones that differ only in
    /// trailing NUL bytes, at 16 and 17 bytes, ASCII and not, keep their own ids.
    @Test func cachedPiecesAreKeyedByEveryByte() throws {
        let tokenizer = try Tokenizer(gguf: try RealModel.require())
        let texts = ["\u{0}", "\u{0}\u{0}", "!\u{0}", "!\u{0}\u{0}", String(repeating: "a", count: 16), String(repeating: "a", count: 17),
                     String(repeating: "ab", count: 8) + "\u{0}", " " + String(repeating: "é", count: 8), " " + String(repeating: "é", count: 9)]
        var cache = BPECache(capacity: 1024)
        for pass in 0..<2 {
            for text in texts {
                #expect(tokenizer.encode(text, cache: &cache) == tokenizer.encode(text), "pass \(pass): \(text.debugDescription)")
            }
        }
        #expect(cache.count >= texts.count)
    }

    @Test func decodeInvertsEncode() throws {
        let tokenizer = try Tokenizer(gguf: try RealModel.require())
        let ref = try RealModel.fixture("tokenizer_reference.json", as: TokenizerReference.self)
        for c in ref.cases {
            #expect(tokenizer.decode(tokenizer.encode(c.text)) == c.text, "\(c.text.debugDescription)")
            #expect(tokenizer.decode(tokenizer.encode(c.text, parseSpecial: true), special: true) == c.text)
        }
    }
}
