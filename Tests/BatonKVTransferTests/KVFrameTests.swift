// KVFrame's wire layout: every type round-trips through the decoder (whole, byte by byte, many at
// once), one READ is checked byte for byte, DATA's separate header matches, invalid frames fail
// validate() and the encoder.

@testable import BatonKVTransfer
import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing

@Suite struct KVFrameTests {
    @Test func everyTypeRoundTripsThroughTheDecoder() throws {
        let pairs = KVFrameSamples.all.map { frame in (frame.encoded, [frame]) }
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { KVFrameDecoder() }
    }

    @Test func samplesCoverEveryType() {
        #expect(Set(KVFrameSamples.all.map(\.type.rawValue)) == Set(1...11))
    }

    @Test func readFrameLayoutByteForByte() {
        let frame = KVFrame.read(seq: 7, requestId: "r1", blockIds: [1, 258])
        let expected: [UInt8] = [
            0x00, 0x00, 0x00, 0x15,  // length 21 = type + seq + string + count + 2 ids
            0x05,  // READ
            0x00, 0x00, 0x00, 0x07,  // seq
            0x00, 0x02, 0x72, 0x31,  // "r1"
            0x00, 0x00, 0x00, 0x02,  // 2 block ids
            0x00, 0x00, 0x00, 0x01,
            0x00, 0x00, 0x01, 0x02,
        ]
        #expect(frame.encodedBytes == expected)
    }

    @Test func dataHeaderThenPayloadIsTheWholeFrame() {
        let payload = ByteBuffer(bytes: [9, 8, 7, 6, 5])
        var header = ByteBuffer()
        KVFrame.writeDataHeader(seq: 0x0102_0304, layer: 0x0506, payloadLength: payload.readableBytes, to: &header)
        #expect(Array(header.readableBytesView) == [0, 0, 0, 12, 6, 1, 2, 3, 4, 5, 6])
        #expect(header.readableBytes == KVFrame.dataHeaderLength)
        header.writeImmutableBuffer(payload)
        #expect(header == KVFrame.data(seq: 0x0102_0304, layer: 0x0506, payload: payload).encoded)
    }

    @Test func framesAtTheLimitsDecode() throws {
        let frames: [KVFrame] = [
            .read(
                seq: 1, requestId: String(repeating: "x", count: KVFrame.maxStringBytes),
                blockIds: Array(0..<UInt32(KVFrame.maxBlockIds))),
            .hello(
                version: 1, engineId: String(repeating: "€", count: 341),  // 1023 bytes
                compatibility: Array(0..<32), mac: Array(0..<32)),
        ]
        for frame in frames {
            var buffer = frame.encoded
            #expect(buffer.readableBytes - 4 <= KVFrame.maxControlFrameLength)
            var decoder = KVFrameDecoder()
            #expect(try decoder.decode(buffer: &buffer) == frame)
            #expect(buffer.readableBytes == 0)
        }
    }

    @Test func tooManyBlockIdsFailValidation() {
        let read = KVFrame.read(seq: 1, requestId: "r", blockIds: [UInt32](repeating: 0, count: KVFrame.maxBlockIds + 1))
        #expect(throws: KVFrameError.malformed(type: 5, "65537 block ids, limit 65536")) { try read.validate() }
    }

    @Test(arguments: [
        (KVFrame.refuse(reason: String(repeating: "a", count: 1025)), .malformed(type: 4, "reason is 1025 bytes, limit 1024")),
        (
            .done(seq: 1, requestId: String(repeating: "é", count: 513)),
            .malformed(type: 8, "requestId is 1026 bytes, limit 1024")
        ),
        (.challenge(version: 1, nonce: Array(0..<31), engineId: "p"), .malformed(type: 1, "nonce is 31 bytes, must be 32")),
        (
            .hello(version: 1, engineId: "d", compatibility: Array(0..<32), mac: Array(0..<33)),
            .malformed(type: 2, "mac is 33 bytes, must be 32")
        ),
        (.welcome(mac: []), .malformed(type: 3, "mac is 0 bytes, must be 32")),
    ] as [(KVFrame, KVFrameError)])
    func invalidFramesFailValidation(frame: KVFrame, error: KVFrameError) {
        #expect(throws: error) { try frame.validate() }
    }

    @Test func encoderWritesValidFramesAndRefusesInvalidOnes() throws {
        let channel = EmbeddedChannel(handler: MessageToByteHandler(KVFrameEncoder()))
        let frame = KVFrame.heartbeat(seq: 4, requestId: "r9")
        try channel.writeOutbound(frame)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == frame.encoded)
        #expect(throws: KVFrameError.malformed(type: 3, "mac is 1 bytes, must be 32")) {
            try channel.writeOutbound(KVFrame.welcome(mac: [1]))
        }
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        #expect(throws: KVFrameError.malformed(type: 3, "mac is 1 bytes, must be 32"), "the pipeline sees it too") {
            try channel.throwIfErrorCaught()
        }
        _ = try channel.finish()
    }

    @Test func errorsDescribeThemselves() {
        #expect(KVFrameError.emptyFrame.description == "KV frame of length 0 (a frame holds at least its type byte)")
        #expect(KVFrameError.oversized(length: 9, limit: 8).description == "KV frame of 9 bytes is over the limit of 8")
        #expect(KVFrameError.unknownType(42).description == "KV frame of unknown type 42")
        #expect(KVFrameError.malformed(type: 5, "x").description == "malformed READ frame (type 5): x")
        #expect(KVFrameError.malformed(type: 99, "x").description == "malformed unknown frame (type 99): x")
    }
}
