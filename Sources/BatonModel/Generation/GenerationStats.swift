// Timings of one in-process generation (`baton generate`).

/// Timings of one generation.
public struct GenerationStats: Sendable, Equatable {
    public var promptTokens = 0
    public var prefillSeconds = 0.0
    public var generatedTokens = 0
    /// Forward passes of one token each (every generated token after the first).
    public var decodeSteps = 0
    public var decodeSeconds = 0.0

    public var prefillTokensPerSecond: Double { prefillSeconds > 0 ? Double(promptTokens) / prefillSeconds : 0 }
    public var decodeTokensPerSecond: Double { decodeSeconds > 0 ? Double(decodeSteps) / decodeSeconds : 0 }
}
