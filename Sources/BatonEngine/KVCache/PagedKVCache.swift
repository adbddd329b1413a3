// The engine's KV storage: `blockCount` blocks of `blockSize` slots per layer, f16 or f32, addressed by
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
    public let dtype: KVCacheDType
    private let kvDim: Int
    private let layers: Int
    private let storage: UnsafeMutableRawPointer   // (layers, 2, slots, kvDim) of dtype
    private let bytes: Int
    /// The mapping itself (`storage` is its first 2 MiB boundary).
    private let mapping: (start: UnsafeMutableRawPointer, bytes: Int)

    /// Bytes one block takes across all layers, K and V.
    public static func bytesPerBlock(config: LlamaConfiguration, blockSize: Int, dtype: KVCacheDType = .f16) -> Int {
        config.layerCount * 2 * blockSize * config.kvDim * dtype.byteSize
    }

    public init?(config: LlamaConfiguration, blockSize: Int, blockCount: Int, dtype: KVCacheDType = .f16) {
        precondition(blockSize >= 1 && blockCount >= 1)
        self.blockSize = blockSize
        self.blockCount = blockCount
        self.dtype = dtype
        slotCount = blockSize * blockCount
        kvDim = config.kvDim
        layers = config.layerCount
        let count = layers * 2 * slotCount * kvDim
        // An anonymous mapping committed up front: every page written (zero) now. (A memset
        // after malloc is turned into calloc by the optimiser, which commits nothing.) On Linux
        // it asks for transparent huge pages first: attention reads each sequence's blocks
        // scattered over the pool, and with 4 KiB pages nearly every block costs TLB misses
        // (page walks, which are nested under a hypervisor); with 2 MiB pages the pool's
        // translations fit in the TLB. Where THP is off the advice is ignored.
        bytes = count * dtype.byteSize
        let hugePage = 2 << 20
        #if os(Linux)
        let flags = MAP_PRIVATE | MAP_ANONYMOUS
        #else
        let flags = MAP_PRIVATE | MAP_ANON
        #endif
        let mapped = bytes + hugePage
        guard let raw = mmap(nil, mapped, PROT_READ | PROT_WRITE, flags, -1, 0), raw != MAP_FAILED else { return nil }
        mapping = (raw, mapped)
        let aligned = (Int(bitPattern: raw) + hugePage - 1) / hugePage * hugePage
        storage = raw + (aligned - Int(bitPattern: raw))
        #if os(Linux)
        _ = madvise(storage, bytes, MADV_HUGEPAGE)
        #endif
        memset(storage, 0, bytes)
    }

    deinit { munmap(mapping.start, mapping.bytes) }

    public var byteCount: Int { bytes }

    public var layerCount: Int { layers }

    /// Bytes of one block's K (or V) in one layer: `blockSize` slots of `kvDim` elements, contiguous.
    public var blockBytes: Int { blockSize * kvDim * dtype.byteSize }

    /// One block's K (`kv` 0) or V (`kv` 1) in `layer`, for KV transfer. The caller owns the
    /// block (held under a lease, or allocated to a request that is not being computed).
    public func block(layer: Int, kv: Int, block: Int) -> UnsafeMutableRawBufferPointer {
        precondition(layer >= 0 && layer < layers && (kv == 0 || kv == 1) && block >= 0 && block < blockCount)
        return UnsafeMutableRawBufferPointer(start: base(layer, kv) + block * blockBytes, count: blockBytes)
    }

    private func base(_ layer: Int, _ kv: Int) -> UnsafeMutableRawPointer {
        storage + (layer * 2 + kv) * slotCount * kvDim * dtype.byteSize
    }

    public func keys(layer: Int) -> UnsafeMutablePointer<Float16> {
        precondition(dtype == .f16)
        return base(layer, 0).assumingMemoryBound(to: Float16.self)
    }

    public func values(layer: Int) -> UnsafeMutablePointer<Float16> {
        precondition(dtype == .f16)
        return base(layer, 1).assumingMemoryBound(to: Float16.self)
    }

    public func keysF32(layer: Int) -> UnsafeMutablePointer<Float> {
        precondition(dtype == .f32)
        return base(layer, 0).assumingMemoryBound(to: Float.self)
    }

    public func valuesF32(layer: Int) -> UnsafeMutablePointer<Float> {
        precondition(dtype == .f32)
        return base(layer, 1).assumingMemoryBound(to: Float.self)
    }
}
