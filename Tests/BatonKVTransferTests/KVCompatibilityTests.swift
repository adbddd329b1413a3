// KVCompatibility against an answer computed outside Swift (the python one-liner beside it):
// its canonical string, its digest, and that any difference in the KV layout changes it.

import BatonKVTransfer
import Testing

@Suite struct KVCompatibilityTests {
    static let smolLM = KVCompatibility(
        modelFingerprint: "smollm2-135m-instruct-q4_1", dtype: "f16", layers: 30, kvHeads: 3, headSize: 64, blockSize: 16)

    @Test func compatibilityCanonicalStringAndDigest() {
        let canonical = "baton-kv/1;model=smollm2-135m-instruct-q4_1;dtype=f16;layers=30;kv_heads=3;head_size=64;block_size=16"
        #expect(Self.smolLM.canonical == canonical)
        #expect(Self.smolLM.description == canonical)
        // python3 -c 'import hashlib;print(hashlib.sha256(b"baton-kv/1;model=smollm2-135m-instruct-q4_1;dtype=f16;layers=30;kv_heads=3;head_size=64;block_size=16").hexdigest())'
        #expect(Self.smolLM.digest == bytes(hex: "b8aa696a980bcfb34e47a23ebc3a02f48c7bd2388e278dd41488dc92d4c8ec01"))
    }

    @Test func anyDifferenceChangesTheDigest() {
        var other = Self.smolLM
        other.blockSize = 32
        #expect(other.digest != Self.smolLM.digest)
        other = Self.smolLM
        other.dtype = "q8_0"
        #expect(other.digest != Self.smolLM.digest)
    }
}
