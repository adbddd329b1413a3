// The consumer's streaming decoder: however the bytes are cut, control frames come out whole
// and DATA payloads come out as pieces that reassemble to the exact payload, in order, never
// gathered; frames before the handshake pass on down the pipeline; bad headers close.

@testable import BatonKVTransfer
import NIOCore
import NIOEmbedded
import Synchronization
import Testing

private final class Collected: Sendable {
    let replies = Mutex<[KVReply]>([])
}

private func payload(_ n: Int, seed: UInt8) -> ByteBuffer {
    ByteBuffer(bytes: (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) })
}

@Suite struct KVStreamingDecoderTests {
    @Test func piecesReassembleExactlyHoweverTheBytesAreCut() throws {
        let frames: [KVFrame] = [
            .ok(seq: 1),
            .data(seq: 2, layer: 0, payload: payload(70_000, seed: 1)),
            .data(seq: 2, layer: 1, payload: payload(70_000, seed: 2)),
            .data(seq: 2, layer: 2, payload: payload(0, seed: 0)),
            .end(seq: 2),
            .error(seq: 3, reason: "gone"),
            .data(seq: 4, layer: 0, payload: payload(5, seed: 9)),
            .end(seq: 4),
        ]
        var wire = ByteBuffer()
        for f in frames { f.write(to: &wire) }
        let bytes = Array(wire.readableBytesView)
        var rng = SplitMix64(seed: 7)
        for trial in 0..<200 {
            let decoder = KVStreamingDecoder()
            let collected = Collected()
            decoder.route { reply in collected.replies.withLock { $0.append(reply) } }
            let channel = EmbeddedChannel(handler: decoder)
            var at = 0
            while at < bytes.count {
                let n = trial == 0 ? bytes.count : min(bytes.count - at, Int(rng.next() % 9000) + 1)
                try channel.writeInbound(ByteBuffer(bytes: bytes[at..<(at + n)]))
                at += n
            }
            // Rebuild frames from the replies: chunks of one DATA frame are contiguous and in order.
            var rebuilt: [KVFrame] = []
            var current: (seq: UInt32, layer: UInt16, total: Int, bytes: ByteBuffer)?
            for reply in collected.replies.withLock({ $0 }) {
                switch reply {
                case .frame(let f): rebuilt.append(f)
                case .chunk(let seq, let layer, let offset, let total, var piece):
                    if current == nil { current = (seq, layer, total, ByteBuffer()) }
                    #expect(current!.seq == seq && current!.layer == layer && current!.bytes.readableBytes == offset)
                    current!.bytes.writeBuffer(&piece)
                    if current!.bytes.readableBytes == total {
                        rebuilt.append(.data(seq: seq, layer: layer, payload: current!.bytes))
                        current = nil
                    }
                case .failure(let e): Issue.record("unexpected failure \(e)")
                }
            }
            #expect(rebuilt == frames, "trial \(trial)")
            _ = try channel.finish()
        }
    }

    @Test func framesBeforeRoutingPassOnDownThePipeline() throws {
        let channel = EmbeddedChannel(handler: KVStreamingDecoder())
        var wire = ByteBuffer()
        KVFrame.challenge(version: 1, nonce: Array(repeating: 7, count: 32), engineId: "p").write(to: &wire)
        try channel.writeInbound(wire)
        #expect(try channel.readInbound(as: KVFrame.self) == .challenge(version: 1, nonce: Array(repeating: 7, count: 32), engineId: "p"))
        // DATA before the handshake is a protocol violation: the connection closes.
        var data = ByteBuffer()
        KVFrame.data(seq: 1, layer: 0, payload: payload(10, seed: 0)).write(to: &data)
        #expect(throws: (any Error).self) { try channel.writeInbound(data) }
        #expect(!channel.isActive)
    }

    @Test(arguments: [
        [0, 0, 0, 0],                       // length 0
        [0xFF, 0xFF, 0xFF, 0xF0],           // oversized, judged from the 4-byte header
        [0, 0, 0, 5, 99],                   // unknown type
        [0, 0x10, 0, 0, 10],                // an OK frame of 1 MiB: control frames are small
        [0, 0, 0, 3, 6, 0, 0],              // DATA without room for its header
    ] as [[UInt8]])
    func badHeadersCloseAtOnce(header: [UInt8]) throws {
        let decoder = KVStreamingDecoder()
        decoder.route { _ in Issue.record("nothing should be delivered") }
        let channel = EmbeddedChannel(handler: decoder)
        #expect(throws: (any Error).self) { try channel.writeInbound(ByteBuffer(bytes: header)) }
        #expect(!channel.isActive)
    }
}
