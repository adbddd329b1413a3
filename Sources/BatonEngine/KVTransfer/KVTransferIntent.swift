// A request's part in a prefill/decode split, in engine terms (the KV handoff plan maps vLLM's
// `kv_transfer_params` to it).

/// A request's part in a split.
public enum KVTransferIntent: Sendable, Equatable {
    /// Prefill here and hold the prompt's blocks for a remote decoder (`do_remote_decode`).
    case produce
    /// The prompt was prefilled remotely: pull its blocks, then decode (`do_remote_prefill`).
    case consume(RemotePrefill)
}
