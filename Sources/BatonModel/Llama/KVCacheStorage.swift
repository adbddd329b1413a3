// The seam between the forward pass and KV storage. The forward pass reads and writes K/V rows
// by slot (vLLM's slot mapping: block · blockSize + offset), found through each sequence's
// block table, so the runtime's paged block pool and the contiguous cache look the same to it.

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
