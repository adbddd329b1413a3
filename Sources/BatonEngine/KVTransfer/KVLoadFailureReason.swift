// Why a consumer could not use a request's remote KV: a closed set, the `reason` label of
// `baton_kv_load_failures_total`.

/// Why a request's remote KV could not be used.
public enum KVLoadFailureReason: String, Sendable, Equatable, Hashable, CaseIterable {
    /// `kv_transfer_params` lack a field or hold a bad one (id, host, port, block ids, tp_size).
    case badParams = "bad_params"
    /// `remote_block_ids` names more or fewer blocks than the prompt fills here.
    case blockCountMismatch = "block_count_mismatch"
    /// A consumer without a connector (nothing can pull).
    case notConnected = "not_connected"
    /// The producer could not be reached, or the connection closed under the pull.
    case peerUnreachable = "peer_unreachable"
    /// The producer refused the handshake (secret, protocol version, KV layout or model, engine id).
    case handshakeRefused = "handshake_refused"
    /// The producer no longer holds the blocks (released, or the lease ran out).
    case blocksMissing = "blocks_missing"
    /// No answer within the pull's timeout.
    case timedOut = "timed_out"
    /// The producer broke the transfer protocol.
    case protocolError = "protocol_error"

    /// The request's own `kv_transfer_params` are at fault (a client error); otherwise the
    /// server's setup or its peer is.
    public var isTheRequestsFault: Bool { self == .badParams || self == .blockCountMismatch }
}
