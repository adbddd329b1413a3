// vLLM's `kv_role`: what an engine does with KV blocks in a prefill/decode split. The one
// definition, read by the engine's `--kv-transfer-config` and by a Ray Serve app config alike.

/// vLLM's `kv_role`.
public enum KVRole: String, Sendable, Equatable, CaseIterable {
    /// Prefills and holds the prompt's blocks for a remote decoder.
    case producer = "kv_producer"
    /// Pulls a remote prefill's blocks and decodes.
    case consumer = "kv_consumer"
    /// Either, request by request.
    case both = "kv_both"

    public var produces: Bool { self != .consumer }
    public var consumes: Bool { self != .producer }
}
