// KVAuth's values against answers computed outside Swift (the python one-liners beside them),
// constant-time comparison, and one whole handshake carried by frames.

import BatonKVTransfer
import NIOCore
import Testing

@Suite struct KVAuthTests {
    @Test func clientMACKnownAnswer() {
        // python3 -c 'import hmac,hashlib;print(hmac.new(b"s3cret",bytes(range(32))+bytes(range(32,64))+b"prefill-0",hashlib.sha256).hexdigest())'
        let mac = KVAuth.clientMAC(secret: "s3cret", nonce: Array(0..<32), compatibility: Array(32..<64), engineId: "prefill-0")
        #expect(mac == bytes(hex: "8db5dda52bd9b8789ba4ee3472bf9ed4aa2de9da93f667605c292bf50a17016c"))

        // python3 -c 'import hmac,hashlib;print(hmac.new("clé 🔑".encode(),bytes(32)+bytes(32)+"décode-1".encode(),hashlib.sha256).hexdigest())'
        let utf8 = KVAuth.clientMAC(
            secret: "clé 🔑", nonce: [UInt8](repeating: 0, count: 32), compatibility: [UInt8](repeating: 0, count: 32),
            engineId: "décode-1")
        #expect(utf8 == bytes(hex: "413606658e58b33546ff7c1b3d71dffb99c2c27e590ae84bdcfbeaf32556b39e"))
    }

    @Test func serverMACKnownAnswer() {
        // python3 -c 'import hmac,hashlib;print(hmac.new(b"s3cret",b"server"+bytes(range(32))+bytes(range(32,64)),hashlib.sha256).hexdigest())'
        let mac = KVAuth.serverMAC(secret: "s3cret", nonce: Array(0..<32), compatibility: Array(32..<64))
        #expect(mac == bytes(hex: "9f17b0ecb372c7d39230672d97e9a01e436e9fa3133828bffd8b9312403af3a5"))
    }

    @Test func noncesAre32FreshBytes() {
        let a = KVAuth.nonce()
        let b = KVAuth.nonce()
        #expect(a.count == 32 && b.count == 32)
        #expect(a != b)
    }

    @Test func equalComparesWholeArrays() {
        let mac = Array(UInt8(0)..<32)
        #expect(KVAuth.equal(mac, mac))
        #expect(KVAuth.equal([], []))
        #expect(!KVAuth.equal(mac, [0xFF] + mac.dropFirst()), "first byte differs")
        #expect(!KVAuth.equal(mac, mac.dropLast() + [0xFF]), "last byte differs")
        #expect(!KVAuth.equal(mac, Array(mac.dropLast())), "shorter")
        #expect(!KVAuth.equal(mac, mac + [0]), "longer")
        #expect(!KVAuth.equal([], [0]))
    }

    /// Server and client each hold a secret; the frames cross a decoder as on the wire.
    private func handshake(serverSecret: String, clientSecret: String) throws -> (serverAccepts: Bool, clientAccepts: Bool) {
        var decoder = KVFrameDecoder()
        func wire(_ frame: KVFrame) throws -> KVFrame {
            var buffer = frame.encoded
            return try #require(try decoder.decode(buffer: &buffer))
        }
        let compatibility = KVCompatibilityTests.smolLM.digest
        let nonce = KVAuth.nonce()
        guard case .challenge(_, let challengeNonce, _) = try wire(.challenge(version: 1, nonce: nonce, engineId: "prefill-0"))
        else { Issue.record("not a challenge"); return (false, false) }

        let clientMAC = KVAuth.clientMAC(
            secret: clientSecret, nonce: challengeNonce, compatibility: compatibility, engineId: "decode-0")
        let hello = try wire(.hello(version: 1, engineId: "decode-0", compatibility: compatibility, mac: clientMAC))
        guard case .hello(_, let engineId, let helloCompatibility, let helloMAC) = hello
        else { Issue.record("not a hello"); return (false, false) }
        let expected = KVAuth.clientMAC(
            secret: serverSecret, nonce: nonce, compatibility: helloCompatibility, engineId: engineId)
        guard KVAuth.equal(helloMAC, expected) else { return (false, false) }

        let welcome = try wire(.welcome(mac: KVAuth.serverMAC(secret: serverSecret, nonce: nonce, compatibility: compatibility)))
        guard case .welcome(let serverMAC) = welcome else { Issue.record("not a welcome"); return (true, false) }
        let clientExpects = KVAuth.serverMAC(secret: clientSecret, nonce: challengeNonce, compatibility: compatibility)
        return (true, KVAuth.equal(serverMAC, clientExpects))
    }

    @Test func peersWithTheSameSecretAcceptEachOther() throws {
        let result = try handshake(serverSecret: "s3cret", clientSecret: "s3cret")
        #expect(result.serverAccepts && result.clientAccepts)
    }

    @Test func aWrongSecretIsRefused() throws {
        let result = try handshake(serverSecret: "s3cret", clientSecret: "guess")
        #expect(!result.serverAccepts)
    }
}
