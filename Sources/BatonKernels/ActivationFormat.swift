// How activations are rounded before a matmul (ggml's `vec_dot_type` for each weight type),
// and the row stride of prepared activations.

/// How activations are rounded for a weight type.
public enum ActivationFormat: Sendable, Equatable {
    case f32, f16, q8_0, q8_1
}

extension QuantType {
    /// ggml's `vec_dot_type` for this weight type.
    public var activationFormat: ActivationFormat {
        switch self {
        case .f32: .f32
        case .f16: .f16
        case .q4_0, .q8_0: .q8_0
        case .q4_1: .q8_1
        }
    }
}

/// Row stride of prepared activations (and of dequantised weight panels) for `cols` values.
@inline(__always)
public func preparedStride(cols: Int, format: ActivationFormat) -> Int {
    let extra = format == .q8_1 ? 2 * cols / 32 : format == .q8_0 ? cols / 32 : 0
    return (cols + extra + 15) / 16 * 16
}
