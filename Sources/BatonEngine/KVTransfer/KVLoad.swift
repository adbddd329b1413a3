// A consumer's pull, as the scheduler decided it.

/// A consumer's pull, decided by the scheduler: read the producer's `remoteBlocks` into this
/// engine's `localBlocks` (same count, same order). The first `skippedBlocks` of the prompt were
/// already in the local prefix cache and are not pulled.
public struct KVLoad: Sendable, Equatable {
    public var requestId: String
    public var remote: RemotePrefill
    public var remoteBlocks: [Int]
    public var localBlocks: [Int]
    public var skippedBlocks: Int
}
