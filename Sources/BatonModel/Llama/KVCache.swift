// The seam between the forward pass and KV storage. The forward pass reads and writes K/V rows
// by slot (vLLM's slot mapping: block · blockSize + offset), found through each sequence's
// block table, so the runtime's paged block pool and this contiguous cache look the same to it.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The element type of cached K and V (`--kv-cache-dtype`).
public enum KVCacheDType: String, Sendable, CaseIterable {
    /// llama.cpp's and vLLM's default; attention reproduces llama.cpp's f16 path to the bit.
    case f16
    case f32

    public var byteSize: Int { self == .f16 ? 2 : 4 }
}

/// Per-layer K and V storage addressed by slot.
public protocol KVCacheStorage: AnyObject {
    /// Tokens per block in the block tables given with a batch.
    var blockSize: Int { get }
    /// Total slots per layer.
    var slotCount: Int { get }
    /// What `keys`/`values` (f16) or `keysF32`/`valuesF32` (f32) hold.
    var dtype: KVCacheDType { get }
    /// (slots, kvHeads, headDim) f16 keys of `layer`.
    func keys(layer: Int) -> UnsafeMutablePointer<Float16>
    /// (slots, kvHeads, headDim) f16 values of `layer`.
    func values(layer: Int) -> UnsafeMutablePointer<Float16>
    /// (slots, kvHeads, headDim) f32 keys of `layer` (f32 caches only).
    func keysF32(layer: Int) -> UnsafeMutablePointer<Float>
    /// (slots, kvHeads, headDim) f32 values of `layer` (f32 caches only).
    func valuesF32(layer: Int) -> UnsafeMutablePointer<Float>
}

extension KVCacheStorage {
    public var dtype: KVCacheDType { .f16 }
    public func keysF32(layer: Int) -> UnsafeMutablePointer<Float> { preconditionFailure("not an f32 cache") }
    public func valuesF32(layer: Int) -> UnsafeMutablePointer<Float> { preconditionFailure("not an f32 cache") }
}

/// A contiguous cache: `sequences` rows of `maxContext` slots each, i.e. one block per
/// sequence, block id = sequence index.
public final class ContiguousKVCache: KVCacheStorage {
    public let blockSize: Int
    public let slotCount: Int
    public let sequences: Int
    private let kvDim: Int
    private let layers: Int
    private let storage: UnsafeMutablePointer<Float16>   // (layers, 2, slots, kvDim)

    public init(config: LlamaConfiguration, maxContext: Int, sequences: Int = 1) {
        precondition(maxContext >= 1 && sequences >= 1)
        blockSize = maxContext
        slotCount = maxContext * sequences
        self.sequences = sequences
        kvDim = config.kvDim
        layers = config.layerCount
        let count = layers * 2 * slotCount * kvDim
        // calloc: zeroed pages that cost no memory until a position is written.
        guard let raw = calloc(count, MemoryLayout<Float16>.stride) else { fatalError("cannot allocate the KV cache (\(count * 2) bytes)") }
        storage = raw.bindMemory(to: Float16.self, capacity: count)
    }

    deinit { free(storage) }

    public var byteCount: Int { layers * 2 * slotCount * kvDim * MemoryLayout<Float16>.size }

    public func keys(layer: Int) -> UnsafeMutablePointer<Float16> { storage + (layer * 2) * slotCount * kvDim }
    public func values(layer: Int) -> UnsafeMutablePointer<Float16> { storage + (layer * 2 + 1) * slotCount * kvDim }

    /// The block table of sequence `s`: its one block.
    public func blockTable(sequence s: Int) -> [Int32] { [Int32(s)] }
}

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
