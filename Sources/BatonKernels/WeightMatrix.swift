// A row-major weight matrix in one of the QuantType formats, usually inside the model file's
// mapping.

/// A row-major weight matrix of `rows` × `cols` values in `type`, one output per row, as ggml
/// lays out `W` for `y = W·x` (ggml's ne[0] = cols, ne[1] = rows). `data` is usually inside the
/// model file's mapping.
public struct WeightMatrix: @unchecked Sendable {
    public let data: UnsafeRawPointer
    public let type: QuantType
    public let rows: Int
    public let cols: Int
    public let rowBytes: Int

    public init(data: UnsafeRawPointer, type: QuantType, rows: Int, cols: Int) {
        precondition(cols % type.blockSize == 0, "cols must be a multiple of the block size")
        self.data = data
        self.type = type
        self.rows = rows
        self.cols = cols
        self.rowBytes = type.rowBytes(cols)
    }

    @inlinable
    public func row(_ index: Int) -> UnsafeRawPointer { data + index * rowBytes }
}
