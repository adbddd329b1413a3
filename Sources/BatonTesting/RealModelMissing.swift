// The error a test gets when the real model it needs is not in the model cache.

public struct RealModelMissing: Error, CustomStringConvertible {
    public let description: String

    public init(description: String) { self.description = description }
}
