// vLLM's NixlConnector `kv_transfer_params`, the one protocol between a PD proxy and its
// engines: the proxy sends `do_remote_decode` to the prefill engine, which answers with where
// its held blocks are (`do_remote_prefill` and the `remote_*` fields); the proxy hands those to
// the decode engine verbatim. Extra fields are ignored and every field is optional, so
// parameters written by vLLM, Ray Serve or llm-d decode unchanged.

public struct KVTransferParams: Codable, Sendable, Equatable {
    public var doRemoteDecode: Bool?
    public var doRemotePrefill: Bool?
    public var remoteEngineId: String?
    public var remoteRequestId: String?
    /// The producer's blocks in prompt order. vLLM now nests them one level per KV cache group
    /// (`[[1, 2, 3]]`); one group is accepted nested or flat, and sent flat.
    public var remoteBlockIds: [Int]?
    public var remoteHost: String?
    public var remotePort: Int?
    public var tpSize: Int?
    /// Prompt tokens the held blocks cover.
    public var remoteNumTokens: Int?
    /// Prompt tokens the producer served from its own prefix cache.
    public var remotePrefillCachedTokens: Int?

    public init(
        doRemoteDecode: Bool? = nil, doRemotePrefill: Bool? = nil, remoteEngineId: String? = nil,
        remoteRequestId: String? = nil, remoteBlockIds: [Int]? = nil, remoteHost: String? = nil, remotePort: Int? = nil,
        tpSize: Int? = nil, remoteNumTokens: Int? = nil, remotePrefillCachedTokens: Int? = nil
    ) {
        self.doRemoteDecode = doRemoteDecode
        self.doRemotePrefill = doRemotePrefill
        self.remoteEngineId = remoteEngineId
        self.remoteRequestId = remoteRequestId
        self.remoteBlockIds = remoteBlockIds
        self.remoteHost = remoteHost
        self.remotePort = remotePort
        self.tpSize = tpSize
        self.remoteNumTokens = remoteNumTokens
        self.remotePrefillCachedTokens = remotePrefillCachedTokens
    }

    enum CodingKeys: String, CodingKey {
        case doRemoteDecode = "do_remote_decode", doRemotePrefill = "do_remote_prefill"
        case remoteEngineId = "remote_engine_id", remoteRequestId = "remote_request_id"
        case remoteBlockIds = "remote_block_ids", remoteHost = "remote_host", remotePort = "remote_port", tpSize = "tp_size"
        case remoteNumTokens = "remote_num_tokens", remotePrefillCachedTokens = "remote_prefill_cached_tokens"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        doRemoteDecode = try c.decodeIfPresent(Bool.self, forKey: .doRemoteDecode)
        doRemotePrefill = try c.decodeIfPresent(Bool.self, forKey: .doRemotePrefill)
        remoteEngineId = try c.decodeIfPresent(String.self, forKey: .remoteEngineId)
        remoteRequestId = try c.decodeIfPresent(String.self, forKey: .remoteRequestId)
        if let flat = try? c.decodeIfPresent([Int].self, forKey: .remoteBlockIds) {
            remoteBlockIds = flat
        } else if let groups = try c.decodeIfPresent([[Int]].self, forKey: .remoteBlockIds) {
            guard groups.count <= 1 else {
                throw DecodingError.dataCorruptedError(
                    forKey: .remoteBlockIds, in: c, debugDescription: "only one KV cache group is supported (got \(groups.count))")
            }
            remoteBlockIds = groups.first ?? []
        }
        remoteHost = try c.decodeIfPresent(String.self, forKey: .remoteHost)
        remotePort = try c.decodeIfPresent(Int.self, forKey: .remotePort)
        tpSize = try c.decodeIfPresent(Int.self, forKey: .tpSize)
        remoteNumTokens = try c.decodeIfPresent(Int.self, forKey: .remoteNumTokens)
        remotePrefillCachedTokens = try c.decodeIfPresent(Int.self, forKey: .remotePrefillCachedTokens)
    }
}
