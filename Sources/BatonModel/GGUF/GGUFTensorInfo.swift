// One tensor's description in a GGUF file and where its bytes are.

import BatonKernels

/// One tensor's description and where its bytes are.
public struct GGUFTensorInfo: Sendable, Equatable {
    public let name: String
    /// ggml order: `shape[0]` is the fastest-varying (the row length).
    public let shape: [Int]
    public let type: QuantType
    /// Offset from the start of the data section.
    public let offset: Int
    public let byteCount: Int

    public var elementCount: Int { shape.reduce(1, *) }
}
