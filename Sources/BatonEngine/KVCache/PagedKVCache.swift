// The engine's KV storage: `blockCount` blocks of `blockSize` slots per layer, f16, addressed by
// slot = block · blockSize + offset through each request's block table. The whole pool is
// committed at start (as vLLM reserves its KV memory), so the engine's RSS is flat from then on
// instead of creeping up as the LRU queue reaches blocks never written before.

import BatonModel

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public final class PagedKVCache: KVCacheStorage, @unchecked Sendable {
    public let blockSize: Int
    public let blockCount: Int
    public let slotCount: Int
    private let kvDim: Int
    private let layers: Int
    private let storage: UnsafeMutablePointer<Float16>   // (layers, 2, slots, kvDim)

    /// Bytes one block takes across all layers, K and V.
    public static func bytesPerBlock(config: LlamaConfiguration, blockSize: Int) -> Int {
        config.layerCount * 2 * blockSize * config.kvDim * MemoryLayout<Float16>.size
    }

    public init?(config: LlamaConfiguration, blockSize: Int, blockCount: Int) {
        precondition(blockSize >= 1 && blockCount >= 1)
        self.blockSize = blockSize
        self.blockCount = blockCount
        slotCount = blockSize * blockCount
        kvDim = config.kvDim
        layers = config.layerCount
        let count = layers * 2 * slotCount * kvDim
        guard let raw = calloc(count, MemoryLayout<Float16>.stride) else { return nil }
        memset(raw, 0, count * MemoryLayout<Float16>.stride)   // commit every page now
        storage = raw.bindMemory(to: Float16.self, capacity: count)
    }

    deinit { free(storage) }

    public var byteCount: Int { layers * 2 * slotCount * kvDim * MemoryLayout<Float16>.size }

    public func keys(layer: Int) -> UnsafeMutablePointer<Float16> { storage + (layer * 2) * slotCount * kvDim }
    public func values(layer: Int) -> UnsafeMutablePointer<Float16> { storage + (layer * 2 + 1) * slotCount * kvDim }
}
