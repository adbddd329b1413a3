// What a model file is missing or gets wrong, named by key or tensor.

/// What a model file is missing or gets wrong, named by key or tensor.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    case unsupportedArchitecture(String)
    case missingKey(String)
    case badValue(key: String, reason: String)
    case missingTensor(String)
    case tensorShape(name: String, expected: [Int], found: [Int])
    case unsupportedNormType(name: String, type: String)

    public var description: String {
        switch self {
        case .unsupportedArchitecture(let a): "unsupported model architecture '\(a)' (supported: llama)"
        case .missingKey(let k): "model file has no metadata key '\(k)'"
        case .badValue(let k, let reason): "model metadata '\(k)' is invalid: \(reason)"
        case .missingTensor(let n): "model file has no tensor '\(n)'"
        case .tensorShape(let n, let e, let f): "tensor '\(n)' has shape \(f), expected \(e)"
        case .unsupportedNormType(let n, let t): "norm tensor '\(n)' has type \(t); expected F32 or F16"
        }
    }
}
