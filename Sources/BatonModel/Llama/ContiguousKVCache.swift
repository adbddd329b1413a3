// A contiguous KV cache (one block per sequence), for `baton generate` and the tests.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
