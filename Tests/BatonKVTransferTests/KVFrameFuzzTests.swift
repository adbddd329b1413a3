// Seeded fuzzing of KVFrameDecoder through a channel: random bytes, and valid frames truncated or
// bit-flipped. Every run must decode frames, wait for more bytes, or throw a KVFrameError; never
// crash, never throw anything else, and what it decodes re-encodes to the bytes it consumed.

import BatonKVTransfer
import NIOCore
import NIOEmbedded
import Testing

/// What a stream of bytes did to a fresh decoder.
private struct Outcome {
    var frames: [KVFrame] = []
    var failure: KVFrameError?
}

/// Feeds `bytes` in random chunks of 1...8 bytes through a channel with a `KVFrameDecoder`.
private func feed(_ bytes: [UInt8], using rng: inout SplitMix64) throws -> Outcome {
    let channel = EmbeddedChannel(handler: ByteToMessageHandler(KVFrameDecoder(maxFrameLength: 4096)))
    var outcome = Outcome()
    var offset = 0
    while offset < bytes.count, outcome.failure == nil {
        let end = min(bytes.count, offset + Int.random(in: 1...8, using: &rng))
        do {
            try channel.writeInbound(ByteBuffer(bytes: bytes[offset..<end]))
        } catch let error as KVFrameError {
            outcome.failure = error
        }
        while let frame = try channel.readInbound(as: KVFrame.self) { outcome.frames.append(frame) }
        offset = end
    }
    _ = try channel.finish()
    return outcome
}

/// Checks the rules every outcome obeys, whatever the input.
private func check(_ outcome: Outcome, of bytes: [UInt8]) {
    let consumed = outcome.frames.flatMap(\.encodedBytes)
    #expect(bytes.starts(with: consumed), "decoded frames re-encode to the bytes they came from")
    guard outcome.failure == nil else { return }
    let rest = bytes[consumed.count...]
    if rest.count >= 5 {  // then a whole frame must be missing bytes
        let length = rest.prefix(4).reduce(0) { $0 << 8 | Int($1) }
        #expect(rest.count < 4 + length, "a decoder without an error waits only for an incomplete frame")
    }
}

private func randomString(using rng: inout SplitMix64) -> String {
    let alphabet: [Character] = ["a", "Z", "0", "-", " ", "é", "€", "𝄞"]
    return String((0..<Int.random(in: 0...12, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
}

private func randomBytes(_ count: Int, using rng: inout SplitMix64) -> [UInt8] {
    (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &rng) }
}

private func randomFrame(using rng: inout SplitMix64) -> KVFrame {
    let seq = UInt32.random(in: .min ... .max, using: &rng)
    let short = UInt16.random(in: .min ... .max, using: &rng)
    switch Int.random(in: 1...11, using: &rng) {
    case 1: return .challenge(version: short, nonce: randomBytes(32, using: &rng), engineId: randomString(using: &rng))
    case 2:
        return .hello(
            version: short, engineId: randomString(using: &rng),
            compatibility: randomBytes(32, using: &rng), mac: randomBytes(32, using: &rng))
    case 3: return .welcome(mac: randomBytes(32, using: &rng))
    case 4: return .refuse(reason: randomString(using: &rng))
    case 5:
        let ids = (0..<Int.random(in: 0...16, using: &rng)).map { _ in UInt32.random(in: 0...5000, using: &rng) }
        return .read(seq: seq, requestId: randomString(using: &rng), blockIds: ids)
    case 6:
        let payload = randomBytes(Int.random(in: 0...64, using: &rng), using: &rng)
        return .data(seq: seq, layer: short, payload: ByteBuffer(bytes: payload))
    case 7: return .end(seq: seq)
    case 8: return .done(seq: seq, requestId: randomString(using: &rng))
    case 9: return .heartbeat(seq: seq, requestId: randomString(using: &rng))
    case 10: return .ok(seq: seq)
    default: return .error(seq: seq, reason: randomString(using: &rng))
    }
}

@Suite struct KVFrameFuzzTests {
    static let iterations = 5_000

    @Test func randomBytesNeverCrashTheDecoder() throws {
        var rng = SplitMix64(seed: 0xBA70_0001)
        var failures = 0
        var decoded = 0
        for _ in 0..<Self.iterations {
            var bytes = randomBytes(Int.random(in: 0...48, using: &rng), using: &rng)
            if bytes.count >= 5, Bool.random(using: &rng) {  // a plausible header, so payloads get parsed
                bytes[0...2] = [0, 0, 0]
                bytes[3] = UInt8.random(in: 0...44, using: &rng)
                bytes[4] = UInt8.random(in: 0...12, using: &rng)
            }
            let outcome = try feed(bytes, using: &rng)
            check(outcome, of: bytes)
            failures += outcome.failure == nil ? 0 : 1
            decoded += outcome.frames.count
        }
        #expect(failures > 0 && decoded > 0, "the fuzzing reached both refusals and frames")
    }

    @Test func truncatedAndBitFlippedFramesNeverCrashTheDecoder() throws {
        var rng = SplitMix64(seed: 0xBA70_0002)
        var counts = (failed: 0, waited: 0, decodedAll: 0)
        for _ in 0..<Self.iterations {
            let frames = (0..<Int.random(in: 1...3, using: &rng)).map { _ in randomFrame(using: &rng) }
            let original = frames.flatMap(\.encodedBytes)
            var bytes = original
            let truncate = Bool.random(using: &rng)
            let flips = truncate ? Int.random(in: 0...2, using: &rng) : Int.random(in: 1...4, using: &rng)
            for _ in 0..<flips {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] ^= 1 << UInt8.random(in: 0...7, using: &rng)
            }
            if truncate { bytes.removeLast(Int.random(in: 1...bytes.count, using: &rng)) }

            let outcome = try feed(bytes, using: &rng)
            check(outcome, of: bytes)
            if flips == 0 {  // a prefix of a valid stream is never refused, only waited on
                #expect(outcome.failure == nil)
                #expect(Array(frames.prefix(outcome.frames.count)) == outcome.frames)
            }
            if outcome.failure != nil {
                counts.failed += 1
            } else if outcome.frames.flatMap(\.encodedBytes).count < bytes.count {
                counts.waited += 1
            } else {
                counts.decodedAll += 1
            }
        }
        #expect(counts.failed > 0 && counts.waited > 0 && counts.decodedAll > 0, "\(counts)")
    }
}
