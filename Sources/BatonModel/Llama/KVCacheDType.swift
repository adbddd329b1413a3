// The element type of cached K and V (`--kv-cache-dtype`).

/// The element type of cached K and V (`--kv-cache-dtype`).
public enum KVCacheDType: String, Sendable, CaseIterable {
    /// llama.cpp's and vLLM's default; attention reproduces llama.cpp's f16 path to the bit.
    case f16
    case f32

    public var byteSize: Int { self == .f16 ? 2 : 4 }
}
