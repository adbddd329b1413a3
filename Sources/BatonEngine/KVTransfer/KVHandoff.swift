// The engine side of the KV handoff in one place: vLLM's `kv_transfer_params` are checked once
// here, against the engine's role and block size, and turned into one `KVHandoffPlan`
// (produce, consume, recompute, refuse or none); a producer's held blocks are turned back into
// the parameters its answer carries. Pure: no lock, no socket. `LLMEngine+KVHandoff.swift`
// carries the plan out (leases, pulls, the failure log and counter); `KVTransferServices`
// (BatonKVTransfer) builds the transfer server and connector from the same config.

import BatonOpenAI

public struct KVHandoff: Sendable {
    /// The engine's part in splits; nil: none (`kv_transfer_params` are ignored).
    public let config: KVTransferConfig?
    /// Tokens per KV block, here and (the same KV layout, checked in the handshake) at the producer.
    public let blockSize: Int

    public init(config: KVTransferConfig?, blockSize: Int) {
        self.config = config
        self.blockSize = blockSize
    }

    /// The plan for a request with `params` and a `promptTokens`-token prompt. `stream`: the
    /// client reads the answer as it comes, so a producer serves it in full (the answer that
    /// would carry the held blocks' parameters is not sent whole). `connected`: a connector is
    /// attached (a consumer without one cannot pull).
    public func plan(_ params: KVTransferParams?, stream: Bool, promptTokens: Int, connected: Bool) -> KVHandoffPlan {
        guard let params, let config else { return .none }
        if params.doRemotePrefill == true {
            guard config.role.consumes else { return .none }
            do throws(KVLoadFailure) {
                let remote = try Self.remotePrefill(params)
                let needed = KVCacheManager.blocksNeeded(tokens: promptTokens, blockSize: blockSize)
                guard remote.blockIds.count == needed else {
                    throw KVLoadFailure(.blockCountMismatch,
                        "kv_transfer_params.remote_block_ids names \(remote.blockIds.count) blocks, but the prompt fills \(needed) blocks of \(blockSize) tokens.")
                }
                guard connected else { throw KVLoadFailure(.notConnected, "this engine is a KV consumer without a KV connector to pull with (a server misconfiguration).") }
                return .consume(remote)
            } catch {
                return config.loadFailurePolicy == .recompute ? .recompute(error) : .refuse(error)
            }
        }
        if params.doRemoteDecode == true, !stream, config.role.produces { return .produce }
        return .none
    }

    /// A producer's answer: where its held blocks are, for the decoder (nil when none are held).
    public func answer(_ held: HeldPrefill?) -> KVTransferParams? {
        guard let held, let config else { return nil }
        return KVTransferParams(
            doRemoteDecode: false, doRemotePrefill: true, remoteEngineId: config.engineId, remoteRequestId: held.requestId,
            remoteBlockIds: held.blockIds, remoteHost: config.host, remotePort: config.port, tpSize: 1,
            remoteNumTokens: held.numTokens, remotePrefillCachedTokens: held.cachedTokens)
    }

    /// Every id, count and port that arrives from outside, checked.
    static func remotePrefill(_ p: KVTransferParams) throws(KVLoadFailure) -> RemotePrefill {
        func required<T>(_ value: T?, _ name: String) throws(KVLoadFailure) -> T {
            guard let value else { throw KVLoadFailure(.badParams, "kv_transfer_params.\(name) is required with do_remote_prefill.") }
            return value
        }
        let engineId = try required(p.remoteEngineId, "remote_engine_id")
        let requestId = try required(p.remoteRequestId, "remote_request_id")
        let blocks = try required(p.remoteBlockIds, "remote_block_ids")
        let host = try required(p.remoteHost, "remote_host")
        let port = try required(p.remotePort, "remote_port")
        for (name, text) in [("remote_engine_id", engineId), ("remote_request_id", requestId), ("remote_host", host)]
        where text.isEmpty || text.utf8.count > 1024 {
            throw KVLoadFailure(.badParams, "kv_transfer_params.\(name) must be 1 to 1024 bytes.")
        }
        guard (1...65535).contains(port) else {
            throw KVLoadFailure(.badParams, "kv_transfer_params.remote_port \(port) is not a port.")
        }
        guard !blocks.isEmpty, blocks.count <= 65536, blocks.allSatisfy({ (0..<Int(UInt32.max)).contains($0) }) else {
            throw KVLoadFailure(.badParams, "kv_transfer_params.remote_block_ids must be 1 to 65536 block ids ≥ 0.")
        }
        if let tp = p.tpSize, tp != 1 {
            throw KVLoadFailure(.badParams, "kv_transfer_params.tp_size \(tp) is not supported (1).")
        }
        if let cached = p.remotePrefillCachedTokens, cached < 0 {
            throw KVLoadFailure(.badParams, "kv_transfer_params.remote_prefill_cached_tokens must be ≥ 0.")
        }
        return RemotePrefill(
            engineId: engineId, requestId: requestId, blockIds: blocks, host: host, port: port,
            prefillCachedTokens: p.remotePrefillCachedTokens)
    }
}
