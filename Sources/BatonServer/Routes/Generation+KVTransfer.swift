// `kv_transfer_params` in and out of the engine: what part a request asks this engine to take
// in a prefill/decode split, checked at the edge (every id, count and port that arrives from
// outside), and the parameters a producer answers with.

import BatonEngine
import BatonOpenAI

extension Generation {
    /// The engine's part in `params`' split; nil when there is none or this engine's role does
    /// not take it (the request is then served here in full, as vLLM does).
    static func kvTransferIntent(
        _ params: KVTransferParams?, stream: Bool, promptTokens: Int, engine: EngineConfig
    ) throws(APIError) -> KVTransferIntent? {
        guard let params, let config = engine.kvTransfer else { return nil }
        if params.doRemotePrefill == true {
            guard config.role.consumes else { return nil }
            do throws(APIError) {
                let remote = try remotePrefill(params)
                let needed = engine.blocksNeeded(tokens: promptTokens)
                guard remote.blockIds.count == needed else {
                    throw .invalid(
                        "kv_transfer_params.remote_block_ids names \(remote.blockIds.count) blocks, but the prompt fills \(needed) blocks of \(engine.blockSize) tokens.",
                        param: "kv_transfer_params")
                }
                return .consume(remote)
            } catch {
                // Parameters that cannot be pulled: prefill here, unless told to fail.
                if config.loadFailurePolicy == .recompute { return nil }
                throw error
            }
        }
        if params.doRemoteDecode == true, !stream, config.role.produces { return .produce }
        return nil
    }

    private static func remotePrefill(_ p: KVTransferParams) throws(APIError) -> RemotePrefill {
        func required<T>(_ value: T?, _ name: String) throws(APIError) -> T {
            guard let value else { throw .invalid("kv_transfer_params.\(name) is required with do_remote_prefill.", param: "kv_transfer_params") }
            return value
        }
        let engineId = try required(p.remoteEngineId, "remote_engine_id")
        let requestId = try required(p.remoteRequestId, "remote_request_id")
        let blocks = try required(p.remoteBlockIds, "remote_block_ids")
        let host = try required(p.remoteHost, "remote_host")
        let port = try required(p.remotePort, "remote_port")
        for (name, text) in [("remote_engine_id", engineId), ("remote_request_id", requestId), ("remote_host", host)]
        where text.isEmpty || text.utf8.count > 1024 {
            throw .invalid("kv_transfer_params.\(name) must be 1 to 1024 bytes.", param: "kv_transfer_params")
        }
        guard (1...65535).contains(port) else {
            throw .invalid("kv_transfer_params.remote_port \(port) is not a port.", param: "kv_transfer_params")
        }
        guard !blocks.isEmpty, blocks.count <= 65536, blocks.allSatisfy({ (0..<Int(UInt32.max)).contains($0) }) else {
            throw .invalid("kv_transfer_params.remote_block_ids must be 1 to 65536 block ids ≥ 0.", param: "kv_transfer_params")
        }
        if let tp = p.tpSize, tp != 1 {
            throw .invalid("kv_transfer_params.tp_size \(tp) is not supported (1).", param: "kv_transfer_params")
        }
        return RemotePrefill(engineId: engineId, requestId: requestId, blockIds: blocks, host: host, port: port)
    }

    /// A producer's answer: where its held blocks are, for the decoder.
    static func kvTransferParams(_ held: HeldPrefill?, config: KVTransferConfig?) -> KVTransferParams? {
        guard let held, let config else { return nil }
        return KVTransferParams(
            doRemoteDecode: false, doRemotePrefill: true, remoteEngineId: config.engineId, remoteRequestId: held.requestId,
            remoteBlockIds: held.blockIds, remoteHost: config.host, remotePort: config.port, tpSize: 1,
            remoteNumTokens: held.numTokens, remotePrefillCachedTokens: held.cachedTokens)
    }
}
