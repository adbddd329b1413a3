import BatonKVTransfer
import Testing

@Test func protocolVersionIsSet() {
    #expect(KVTransferProtocol.version >= 1)
}
