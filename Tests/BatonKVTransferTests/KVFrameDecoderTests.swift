// KVFrameDecoder's refusals, one per rule, on hand-built bytes; length checks that fire before
// the frame's bytes arrive; partial frames that wait without consuming anything.

import BatonKVTransfer
import NIOCore
import NIOEmbedded
import Testing

/// Decodes one frame from `bytes` with a fresh decoder.
private func decode(_ bytes: [UInt8], maxFrameLength: Int = 64 << 20) throws -> KVFrame? {
    var decoder = KVFrameDecoder(maxFrameLength: maxFrameLength)
    var buffer = ByteBuffer(bytes: bytes)
    return try decoder.decode(buffer: &buffer)
}

@Suite struct KVFrameDecoderTests {
    @Test func zeroLengthIsRefused() {
        #expect(throws: KVFrameError.emptyFrame) { try decode([0, 0, 0, 0]) }
    }

    @Test func oversizedLengthIsRefusedOnTheHeaderAlone() {
        #expect(throws: KVFrameError.oversized(length: (64 << 20) + 1, limit: 64 << 20)) {
            try decode([0x04, 0x00, 0x00, 0x01])
        }
        #expect(throws: KVFrameError.oversized(length: 1001, limit: 1000)) {
            try decode([0x00, 0x00, 0x03, 0xE9], maxFrameLength: 1000)
        }
        #expect(throws: KVFrameError.oversized(length: Int(UInt32.max), limit: 64 << 20)) {
            try decode([0xFF, 0xFF, 0xFF, 0xFF])
        }
    }

    @Test func oversizedControlFrameIsRefusedOnFourPlusOneBytes() throws {
        let header: [UInt8] = [0x00, 0x04, 0x93, 0xE1]  // 300_001
        #expect(try decode(header) == nil, "the type decides the limit")
        #expect(throws: KVFrameError.oversized(length: 300_001, limit: 300_000)) { try decode(header + [5]) }

        let channel = EmbeddedChannel(handler: ByteToMessageHandler(KVFrameDecoder()))
        #expect(throws: KVFrameError.oversized(length: 300_001, limit: 300_000)) {
            try channel.writeInbound(ByteBuffer(bytes: header + [10]))
        }
        _ = try channel.finish()
    }

    @Test func dataFrameMayExceedTheControlLimit() throws {
        let header: [UInt8] = [0x00, 0x04, 0x93, 0xE1, 6]
        #expect(try decode(header) == nil)
        #expect(throws: KVFrameError.oversized(length: 300_001, limit: 1000)) {
            try decode(header, maxFrameLength: 1000)
        }
    }

    @Test(arguments: [UInt8(0), 12, 200, 255])
    func unknownTypeIsRefusedOnFourPlusOneBytes(type: UInt8) {
        #expect(throws: KVFrameError.unknownType(type)) { try decode([0, 0, 0, 100, type]) }
    }

    @Test(arguments: [
        (frameBytes(type: 10, [0, 1]), KVFrameError.malformed(type: 10, "truncated seq: needs 4 bytes, 2 left")),
        (frameBytes(type: 6, []), .malformed(type: 6, "truncated seq: needs 4 bytes, 0 left")),
        (frameBytes(type: 6, [0, 0, 0, 1, 0]), .malformed(type: 6, "truncated layer: needs 2 bytes, 1 left")),
        (frameBytes(type: 4, [0]), .malformed(type: 4, "truncated reason: needs 2 bytes, 1 left")),
        (frameBytes(type: 4, [0, 5, 0x61]), .malformed(type: 4, "truncated reason: needs 5 bytes, 1 left")),
        (frameBytes(type: 5, [0, 0, 0, 1] + stringField([0x72])), .malformed(type: 5, "truncated blockIds count: needs 4 bytes, 0 left")),
    ] as [([UInt8], KVFrameError)])
    func truncatedFieldIsRefused(bytes: [UInt8], error: KVFrameError) {
        #expect(throws: error) { try decode(bytes) }
    }

    @Test func stringOverTheLimitIsRefused() {
        let reason = stringField([UInt8](repeating: 0x61, count: KVFrame.maxStringBytes + 1))
        #expect(throws: KVFrameError.malformed(type: 4, "reason is 1025 bytes, limit 1024")) {
            try decode(frameBytes(type: 4, reason))
        }
    }

    @Test(arguments: [[0xC3, 0x28], [0xFF], [0xED, 0xA0, 0x80], [0x61, 0xE2, 0x82]] as [[UInt8]])
    func invalidUTF8IsRefused(string: [UInt8]) {
        #expect(throws: KVFrameError.malformed(type: 9, "requestId is not valid UTF-8")) {
            try decode(frameBytes(type: 9, [0, 0, 0, 1] + stringField(string)))
        }
    }

    @Test func fixedFieldOfTheWrongSizeIsRefused() {
        #expect(throws: KVFrameError.malformed(type: 3, "truncated mac: needs 32 bytes, 31 left")) {
            try decode(frameBytes(type: 3, Array(0..<31)))
        }
        #expect(throws: KVFrameError.malformed(type: 3, "trailing bytes after the last field: 1")) {
            try decode(frameBytes(type: 3, Array(0..<33)))
        }
        // A 31-byte nonce swallows the first byte of engineId's length.
        #expect(throws: KVFrameError.malformed(type: 1, "truncated engineId: needs 2 bytes, 1 left")) {
            try decode(frameBytes(type: 1, [0, 1] + Array(0..<31) + stringField([])))
        }
    }

    @Test(arguments: [
        ([0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2], KVFrameError.malformed(type: 5, "3 block ids need 12 bytes, frame has 8")),
        ([0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2], .malformed(type: 5, "1 block ids need 4 bytes, frame has 8")),
        ([0, 0, 0, 0, 9], .malformed(type: 5, "0 block ids need 0 bytes, frame has 1")),
        ([0, 1, 0x11, 0x70], .malformed(type: 5, "70000 block ids, limit 65536")),
        ([0xFF, 0xFF, 0xFF, 0xFF], .malformed(type: 5, "4294967295 block ids, limit 65536")),
    ] as [([UInt8], KVFrameError)])
    func blockIdCountMustMatchTheFrame(ids: [UInt8], error: KVFrameError) {
        #expect(throws: error) { try decode(frameBytes(type: 5, [0, 0, 0, 1] + stringField([0x72]) + ids)) }
    }

    @Test(arguments: [
        frameBytes(type: 10, [0, 0, 0, 1, 0xAA]),
        frameBytes(type: 7, [0, 0, 0, 1, 0xAA]),
        frameBytes(type: 8, [0, 0, 0, 1] + stringField([0x72]) + [0xAA]),
        frameBytes(type: 11, [0, 0, 0, 1] + stringField([]) + [0xAA]),
    ] as [[UInt8]])
    func trailingBytesAreRefused(bytes: [UInt8]) {
        #expect(throws: KVFrameError.malformed(type: bytes[4], "trailing bytes after the last field: 1")) {
            try decode(bytes)
        }
    }

    @Test func partialFramesWaitWithoutConsuming() throws {
        for frame in KVFrameSamples.all {
            let bytes = frame.encodedBytes
            for cut in 0..<bytes.count {
                var decoder = KVFrameDecoder()
                var buffer = ByteBuffer(bytes: bytes[..<cut])
                #expect(try decoder.decode(buffer: &buffer) == nil)
                #expect(buffer.readableBytes == cut)
            }
        }
    }

    @Test func aBadFrameStopsTheConnectionsDecoder() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(KVFrameDecoder()))
        try channel.writeInbound(KVFrame.ok(seq: 1).encoded)
        #expect(try channel.readInbound(as: KVFrame.self) == .ok(seq: 1))
        #expect(throws: KVFrameError.unknownType(0)) { try channel.writeInbound(ByteBuffer(bytes: [0, 0, 0, 1, 0])) }
        #expect(throws: (any Error).self) { try channel.writeInbound(KVFrame.ok(seq: 2).encoded) }
        #expect(try channel.readInbound(as: KVFrame.self) == nil)
        _ = try channel.finish()
    }
}
