// The tokens of one forward call: prefill chunks and decode tokens from several sequences,
// with their positions and KV slots.

/// The tokens of one forward call: any mix of prefill chunks and decode tokens from several
/// sequences. Arrays keep their capacity across `removeAll()`, so a reused batch does not
/// allocate in the token loop.
public struct ForwardBatch: Sendable {
    /// (tokens) token ids.
    public var tokens: [Int32] = []
    /// (tokens) position of each token in its sequence.
    public var positions: [Int32] = []
    /// (tokens) row of each token's sequence in `blockTables`.
    public var sequences: [Int32] = []
    /// (sequences, blocksPerSequence) physical block ids.
    public var blockTables: [Int32] = []
    public var blocksPerSequence: Int = 1
    /// (sequences) prompt length of each sequence, or empty. When given, attention sums prompt
    /// tokens in llama.cpp's prefill order and generated tokens in its decode order whatever
    /// the batch holds (see Attention.swift); when empty, a one-token batch is decode.
    public var promptLengths: [Int32] = []
    /// Indices into `tokens` whose next-token logits are wanted, in output order.
    public var logitIndices: [Int] = []

    public init() {}

    public var count: Int { tokens.count }

    public mutating func removeAll() {
        tokens.removeAll(keepingCapacity: true)
        positions.removeAll(keepingCapacity: true)
        sequences.removeAll(keepingCapacity: true)
        blockTables.removeAll(keepingCapacity: true)
        promptLengths.removeAll(keepingCapacity: true)
        logitIndices.removeAll(keepingCapacity: true)
    }

    /// Adds `tokens` of sequence `sequence` starting at `position`.
    public mutating func append(_ newTokens: some Collection<Int32>, sequence: Int32, startPosition: Int, wantLogits: Bool) {
        var p = startPosition
        for t in newTokens {
            tokens.append(t)
            positions.append(Int32(p))
            sequences.append(sequence)
            p += 1
        }
        if wantLogits, !newTokens.isEmpty { logitIndices.append(tokens.count - 1) }
    }
}
