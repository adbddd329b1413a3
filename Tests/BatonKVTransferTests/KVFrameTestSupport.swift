// Helpers shared by the frame tests: encoding to bytes, hand-built frames, sample frames of every
// type, and a seeded generator (BatonTesting has no public one).

import BatonKVTransfer
import NIOCore

extension KVFrame {
    var encoded: ByteBuffer {
        var buffer = ByteBuffer()
        self.write(to: &buffer)
        return buffer
    }

    var encodedBytes: [UInt8] { Array(self.encoded.readableBytesView) }
}

/// A frame built by hand: the length header (type byte + payload), the type, the payload.
func frameBytes(type: UInt8, _ payload: [UInt8]) -> [UInt8] {
    let length = UInt32(1 + payload.count)
    return [UInt8(length >> 24), UInt8((length >> 16) & 0xFF), UInt8((length >> 8) & 0xFF), UInt8(length & 0xFF), type]
        + payload
}

/// A string field by hand: UInt16 byte count, then the bytes as given (valid UTF-8 or not).
func stringField(_ bytes: [UInt8]) -> [UInt8] {
    [UInt8(bytes.count >> 8), UInt8(bytes.count & 0xFF)] + bytes
}

func bytes(hex: String) -> [UInt8] {
    let digits = Array(hex.utf8)
    return stride(from: 0, to: digits.count, by: 2).map {
        UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)!
    }
}

enum KVFrameSamples {
    /// Every type at least once, with empty, multi-byte and limit-sized fields.
    static let all: [KVFrame] = [
        .challenge(version: 1, nonce: Array(0..<32), engineId: "prefill-0"),
        .challenge(version: .max, nonce: [UInt8](repeating: 0, count: 32), engineId: ""),
        .hello(version: 1, engineId: "décode-1 🔑", compatibility: Array(32..<64), mac: Array(64..<96)),
        .welcome(mac: [UInt8](repeating: 0xAB, count: 32)),
        .refuse(reason: "compatibility mismatch"),
        .refuse(reason: String(repeating: "é", count: KVFrame.maxStringBytes / 2)),
        .read(seq: 7, requestId: "r1", blockIds: [1, 258]),
        .read(seq: .max, requestId: "", blockIds: []),
        .data(seq: 3, layer: 29, payload: ByteBuffer(bytes: (0..<200).map { UInt8($0) })),
        .data(seq: 0, layer: 0, payload: ByteBuffer()),
        .end(seq: 7),
        .done(seq: 8, requestId: "r1"),
        .heartbeat(seq: 9, requestId: "r1"),
        .ok(seq: 9),
        .error(seq: 10, reason: "unknown request r2"),
    ]
}

/// SplitMix64 (Steele, Lea and Flood, 2014): tiny, seeded, good enough to fuzz with.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { self.state = seed }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
