// A tiny random Llama written to GGUF by the tests themselves: two layers, hidden 64, 4 heads
// over 2 KV heads, and a byte-level BPE vocabulary of the 256 byte symbols, three ChatML
// specials and a few merges. `weights` keeps the dequantised values for scalar references.

import BatonKernels

public struct TinyLlama {
    public var hidden = 64
    public var layers = 2
    public var heads = 4
    public var kvHeads = 2
    public var ffn = 128
    public var context = 256
    public var ropeTheta: Float = 10000
    public var eps: Float = 1e-5
    public var weightType: QuantType = .q8_0
    public var seed: UInt64 = 42

    /// Token texts: specials, then the 256 byte symbols, then merged tokens.
    public private(set) var tokens: [String] = []
    public private(set) var merges: [String] = []
    /// Dequantised weights by tensor name, in ggml layout (rows of `shape[0]`).
    public private(set) var weights: [String: [Float]] = [:]

    public init() {}

    public var vocabSize: Int { tokens.count }

    /// Builds the file; fills `tokens`, `merges`, `weights`.
    public mutating func makeFile() -> [UInt8] {
        buildVocabulary()
        var rng = SplitMix(seed: seed)
        var w = GGUFWriter()
        w.add("general.architecture", .string("llama"))
        w.add("general.name", .string("tiny-random-llama"))
        w.add("llama.context_length", .u32(UInt32(context)))
        w.add("llama.embedding_length", .u32(UInt32(hidden)))
        w.add("llama.block_count", .u32(UInt32(layers)))
        w.add("llama.feed_forward_length", .u32(UInt32(ffn)))
        w.add("llama.attention.head_count", .u32(UInt32(heads)))
        w.add("llama.attention.head_count_kv", .u32(UInt32(kvHeads)))
        w.add("llama.rope.freq_base", .f32(ropeTheta))
        w.add("llama.attention.layer_norm_rms_epsilon", .f32(eps))
        w.add("tokenizer.ggml.model", .string("gpt2"))
        w.add("tokenizer.ggml.pre", .string("smollm"))
        w.add("tokenizer.ggml.tokens", .strings(tokens))
        w.add("tokenizer.ggml.token_type", .i32s(tokens.indices.map { $0 < 3 ? 3 : 1 }))
        w.add("tokenizer.ggml.merges", .strings(merges))
        w.add("tokenizer.ggml.bos_token_id", .u32(1))
        w.add("tokenizer.ggml.eos_token_id", .u32(2))
        w.add("tokenizer.chat_template", .string("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"))

        let kvDim = hidden / heads * kvHeads
        func random(_ count: Int, scale: Float) -> [Float] { (0..<count).map { _ in rng.nextSigned() * scale } }
        func matrix(_ name: String, rows: Int, cols: Int, type: QuantType) {
            weights[name] = w.addTensor(name, shape: [cols, rows], values: random(rows * cols, scale: 0.5 / Float(cols).squareRoot() * 2), type: type)
        }
        func norm(_ name: String) {
            weights[name] = w.addTensor(name, shape: [hidden], values: (0..<hidden).map { _ in 1 + rng.nextSigned() * 0.2 }, type: .f32)
        }
        weights["token_embd.weight"] = w.addTensor("token_embd.weight", shape: [hidden, vocabSize], values: random(vocabSize * hidden, scale: 1), type: .q8_0)
        for l in 0..<layers {
            let p = "blk.\(l)."
            norm(p + "attn_norm.weight")
            matrix(p + "attn_q.weight", rows: hidden, cols: hidden, type: weightType)
            matrix(p + "attn_k.weight", rows: kvDim, cols: hidden, type: weightType)
            matrix(p + "attn_v.weight", rows: kvDim, cols: hidden, type: weightType)
            matrix(p + "attn_output.weight", rows: hidden, cols: hidden, type: weightType)
            norm(p + "ffn_norm.weight")
            matrix(p + "ffn_gate.weight", rows: ffn, cols: hidden, type: weightType)
            matrix(p + "ffn_up.weight", rows: ffn, cols: hidden, type: weightType)
            matrix(p + "ffn_down.weight", rows: hidden, cols: ffn, type: weightType)
        }
        norm("output_norm.weight")
        return w.bytes()
    }

    private mutating func buildVocabulary() {
        tokens = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
        // GPT-2's byte alphabet, in byte order.
        var extra: UInt32 = 0
        var alphabet: [String] = []
        for b in 0..<256 {
            let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
            let scalar = printable ? Unicode.Scalar(UInt32(b))! : Unicode.Scalar(256 + extra)!
            if !printable { extra += 1 }
            alphabet.append(String(scalar))
        }
        tokens += alphabet
        merges = ["h e", "l l", "he ll", "Ġ t", "Ġt he", "o r", "hell o"]
        for m in merges { tokens.append(m.split(separator: " ").joined()) }
    }
}
