// The GGUF reader on a file written by the test, and on every kind of broken file: each must
// give an error that says what is wrong, never a crash or a huge allocation.

import BatonKernels
import BatonTesting
import Testing
@testable import BatonModel

@Suite struct GGUFReaderTests {
    static func tinyFile() -> [UInt8] {
        var tiny = TinyLlama()
        return tiny.makeFile()
    }

    static func parse(_ bytes: [UInt8]) throws(GGUFError) -> GGUFFile {
        try GGUFFile(storage: MappedFile(bytes: bytes))
    }

    @Test func readsMetadataAndTensors() throws {
        let file = try Self.parse(Self.tinyFile())
        #expect(file.version == 3)
        #expect(file.metadata["general.architecture"] == .string("llama"))
        #expect(file.metadata["llama.embedding_length"]?.intValue == 64)
        #expect(file.metadata["tokenizer.ggml.tokens"]?.arrayValue?.count == 3 + 256 + 7)
        let q = try #require(file.tensorsByName["blk.1.attn_q.weight"])
        #expect(q.shape == [64, 64] && q.type == .q8_0 && q.byteCount == 64 * 2 * 34)
        #expect(file.tensors.count == 2 + 2 * 9)
        #expect(file.dataOffset % 32 == 0)
    }

    @Test func mapsAFileFromDisk() throws {
        let path = "/tmp/baton-gguf-test-\(getpid()).gguf"
        let bytes = Self.tinyFile()
        let fp = fopen(path, "wb")!
        _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, bytes.count, fp) }
        fclose(fp)
        defer { unlink(path) }
        let file = try GGUFFile(path: path)
        #expect(file.storage.count == bytes.count)
        #expect(throws: GGUFError.self) { try GGUFFile(path: path + ".missing") }
    }

    @Test func everyTruncationIsAnError() {
        let bytes = Self.tinyFile()
        let file = try! Self.parse(bytes)
        // Cut inside the header, the metadata, the tensor infos and the data.
        var cuts = Array(0..<64) + stride(from: 64, to: file.dataOffset, by: 97).map { $0 }
        cuts += [file.dataOffset - 1, file.dataOffset + 10, bytes.count - 1]
        for cut in cuts {
            #expect(throws: GGUFError.self, "cut at \(cut)") { try Self.parse(Array(bytes[0..<cut])) }
        }
    }

    @Test func wrongMagicAndVersion() {
        var bytes = Self.tinyFile()
        bytes[0] = UInt8(ascii: "X")
        #expect(throws: GGUFError.badMagic(found: 0x4655_4758)) { try Self.parse(bytes) }
        bytes = Self.tinyFile()
        bytes[4] = 9
        #expect(throws: GGUFError.unsupportedVersion(9)) { try Self.parse(bytes) }
    }

    @Test func absurdCountsAreRefusedBeforeAllocating() {
        // Tensor count (offset 8) and metadata count (offset 16) of 2^62.
        for offset in [8, 16] {
            var bytes = Self.tinyFile()
            bytes.replaceSubrange(offset..<(offset + 8), with: le(UInt64(1) << 62))
            do {
                _ = try Self.parse(bytes)
                Issue.record("accepted a count of 2^62 at \(offset)")
            } catch {
                guard case .absurdCount = error else { Issue.record("wrong error \(error)"); continue }
                #expect(error.description.contains("more than the file can hold"))
            }
        }
        // A string length of 2^60 in the first key.
        var bytes = Self.tinyFile()
        bytes.replaceSubrange(24..<32, with: le(UInt64(1) << 60))
        #expect(throws: GGUFError.self) { try Self.parse(bytes) }
        // An array count of 2^61 (the token list).
        var w = GGUFWriter()
        w.add("tokenizer.ggml.tokens", .strings(["a", "b"]))
        bytes = w.bytes()
        let countOffset = 24 + 8 + "tokenizer.ggml.tokens".utf8.count + 4 + 4
        bytes.replaceSubrange(countOffset..<(countOffset + 8), with: le(UInt64(1) << 61))
        #expect(throws: GGUFError.self) { try Self.parse(bytes) }
    }

    @Test func unknownTensorTypeIsNamed() {
        var w = GGUFWriter()
        w.addTensor("t", shape: [32], values: [Float](repeating: 1, count: 32), type: .f32)
        var bytes = w.bytes()
        // Type field follows name (8 + 1), n_dims (4), dims (8) after the 24-byte header.
        let typeOffset = 24 + 8 + 1 + 4 + 8
        bytes.replaceSubrange(typeOffset..<(typeOffset + 4), with: le(UInt32(12)))
        do {
            _ = try Self.parse(bytes)
            Issue.record("accepted Q4_K")
        } catch {
            #expect(error == .unsupportedTensorType(tensor: "t", type: 12, name: "Q4_K"))
            #expect(error.description.contains("Q4_K"))
        }
    }

    @Test func offsetsPastTheEndAndMisalignment() {
        var w = GGUFWriter()
        w.addTensor("t", shape: [32, 2], values: [Float](repeating: 1, count: 64), type: .f32)
        let offsetField = 24 + 8 + 1 + 4 + 16 + 4
        var bytes = w.bytes()
        bytes.replaceSubrange(offsetField..<(offsetField + 8), with: le(UInt64(1 << 20)))
        #expect(throws: GGUFError.self) { try Self.parse(bytes) }
        bytes = w.bytes()
        bytes.replaceSubrange(offsetField..<(offsetField + 8), with: le(UInt64(3)))
        #expect(throws: GGUFError.misalignedTensor(tensor: "t", offset: 3, alignment: 32)) { try Self.parse(bytes) }
        // A shape whose byte size overflows.
        bytes = w.bytes()
        bytes.replaceSubrange((24 + 8 + 1 + 4 + 8)..<(24 + 8 + 1 + 4 + 16), with: le(UInt64(1) << 40))
        #expect(throws: GGUFError.self) { try Self.parse(bytes) }
    }

    @Test func badDimensionsAndValueTypes() {
        var w = GGUFWriter()
        w.addTensor("t", shape: [32], values: [Float](repeating: 1, count: 32), type: .f32)
        var bytes = w.bytes()
        bytes.replaceSubrange((24 + 9)..<(24 + 13), with: le(UInt32(9)))
        #expect(throws: GGUFError.badTensorShape(tensor: "t", reason: "9 dimensions (expected 1 to 4)")) { try Self.parse(bytes) }
        w = GGUFWriter()
        w.add("k", .u32(1))
        bytes = w.bytes()
        bytes.replaceSubrange((24 + 9)..<(24 + 13), with: le(UInt32(77)))
        #expect(throws: GGUFError.badValueType(key: "k", type: 77)) { try Self.parse(bytes) }
    }

    @Test func rowLengthMustFitTheBlockSize() {
        var w = GGUFWriter()
        w.addTensor("t", shape: [32], values: [Float](repeating: 1, count: 32), type: .q8_0)
        var bytes = w.bytes()
        bytes.replaceSubrange((24 + 13)..<(24 + 21), with: le(UInt64(31)))
        #expect(throws: GGUFError.self) { try Self.parse(bytes) }
    }

    @Test func modelConfigurationErrorsNameTheKey() throws {
        var w = GGUFWriter()
        w.add("general.architecture", .string("gpt-neox"))
        #expect(throws: ModelError.unsupportedArchitecture("gpt-neox")) {
            try LlamaConfiguration(gguf: try Self.parse(w.bytes()))
        }
        w = GGUFWriter()
        w.add("general.architecture", .string("llama"))
        #expect(throws: ModelError.self) { try LlamaConfiguration(gguf: try Self.parse(w.bytes())) }
    }
}

func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
