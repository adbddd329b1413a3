// Where each token of an attention batch sits: its sequence and position, and each
// sequence's blocks (the block tables attention reads K and V through).

/// Where each token of a batch sits: its sequence and position, and each sequence's blocks.
public struct AttentionLayout: @unchecked Sendable {
    /// (tokens) position of each token within its sequence.
    public var positions: UnsafePointer<Int32>
    /// (tokens) index of each token's sequence in `blockTables`.
    public var sequences: UnsafePointer<Int32>
    /// (sequences, blocksPerSequence) physical block ids.
    public var blockTables: UnsafePointer<Int32>
    public var blocksPerSequence: Int
    public var blockSize: Int
    /// (sequences) prompt length of each sequence: positions from it on are generated tokens
    /// and take the decode order. nil: a batch of one token is decode, any other prefill.
    public var promptLengths: UnsafePointer<Int32>?

    public init(
        positions: UnsafePointer<Int32>, sequences: UnsafePointer<Int32>,
        blockTables: UnsafePointer<Int32>, blocksPerSequence: Int, blockSize: Int,
        promptLengths: UnsafePointer<Int32>? = nil
    ) {
        self.positions = positions
        self.sequences = sequences
        self.blockTables = blockTables
        self.blocksPerSequence = blocksPerSequence
        self.blockSize = blockSize
        self.promptLengths = promptLengths
    }

    /// Whether token `token` of a `tokens`-token batch sums in the decode order.
    @inline(__always)
    public func isDecode(token: Int, tokens: Int) -> Bool {
        guard let promptLengths else { return tokens == 1 }
        return positions[token] >= promptLengths[Int(sequences[token])]
    }

    /// The cache slot of `position` in sequence `sequence`.
    @inline(__always)
    public func slot(sequence: Int, position: Int) -> Int {
        let block = Int(blockTables[sequence * blocksPerSequence + position / blockSize])
        return block * blockSize + position % blockSize
    }
}
