// How the next token is chosen; the fields and their neutral values follow vLLM's
// SamplingParams.

public struct SamplingParameters: Sendable, Equatable {
    /// 0 means greedy.
    public var temperature: Float = 1
    /// 0 (or ≥ vocabulary) disables top-k.
    public var topK: Int = 0
    /// 1 disables top-p.
    public var topP: Float = 1
    /// 0 disables min-p.
    public var minP: Float = 0
    /// Divides positive logits (multiplies negative ones) of tokens seen in prompt or output.
    public var repetitionPenalty: Float = 1
    /// Subtracted once from the logit of every token already generated.
    public var presencePenalty: Float = 0
    /// Subtracted per occurrence from the logit of tokens already generated.
    public var frequencyPenalty: Float = 0
    /// Same seed, same output. nil draws a seed.
    public var seed: UInt64?

    public init(
        temperature: Float = 1, topK: Int = 0, topP: Float = 1, minP: Float = 0,
        repetitionPenalty: Float = 1, presencePenalty: Float = 0, frequencyPenalty: Float = 0,
        seed: UInt64? = nil
    ) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.repetitionPenalty = repetitionPenalty
        self.presencePenalty = presencePenalty
        self.frequencyPenalty = frequencyPenalty
        self.seed = seed
    }

    public static let greedy = SamplingParameters(temperature: 0)

    public var isGreedy: Bool { temperature == 0 }
}
