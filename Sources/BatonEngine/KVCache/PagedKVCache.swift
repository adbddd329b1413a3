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
    private let bytes: Int

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
        // An anonymous mapping populated up front: every page committed and zeroed now. (A
        // memset after malloc is turned into calloc by the optimiser, which commits nothing.)
        bytes = count * MemoryLayout<Float16>.stride
        #if os(Linux)
        let flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE
        #else
        let flags = MAP_PRIVATE | MAP_ANON
        #endif
        guard let raw = mmap(nil, bytes, PROT_READ | PROT_WRITE, flags, -1, 0), raw != MAP_FAILED else { return nil }
        storage = raw.bindMemory(to: Float16.self, capacity: count)
    }

    deinit { munmap(storage, bytes) }

    public var byteCount: Int { layers * 2 * slotCount * kvDim * MemoryLayout<Float16>.size }

    public func keys(layer: Int) -> UnsafeMutablePointer<Float16> { storage + (layer * 2) * slotCount * kvDim }
    public func values(layer: Int) -> UnsafeMutablePointer<Float16> { storage + (layer * 2 + 1) * slotCount * kvDim }
}
