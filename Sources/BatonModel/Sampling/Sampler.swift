// Picks the next token from logits: penalties → temperature → top-k → top-p → min-p → draw.
// Candidates more than 30 nats below the best (after temperature) are dropped up front: their
// total probability is below 49152 · e⁻³⁰ ≈ 5e-9, and it spares sorting the whole vocabulary.

import BatonKernels

/// The sampling state of one sequence: parameters, its random generator and token counts.
public struct Sampler: Sendable {
    public let parameters: SamplingParameters
    private var rng: SeededGenerator
    /// Tokens of the prompt (for the repetition penalty).
    private var promptTokens: Set<Int32> = []
    /// Count of each generated token (for all three penalties).
    private var outputCounts: [Int32: Int] = [:]
    private var candidates: [(id: Int32, logit: Float)] = []

    public init(_ parameters: SamplingParameters, prompt: [Int32] = []) {
        self.parameters = parameters
        rng = SeededGenerator(seed: parameters.seed ?? UInt64.random(in: .min ... .max))
        if parameters.repetitionPenalty != 1 { promptTokens = Set(prompt) }
    }

    /// Records a generated token, for the penalties.
    public mutating func accept(_ token: Int32) {
        outputCounts[token, default: 0] += 1
    }

    /// Chooses the next token from `logits`, which it leaves as they are: a greedy pick without
    /// penalties reads them in place; any other copies them into `scratch` (at least as long)
    /// and samples the copy.
    public mutating func sample(from logits: UnsafeBufferPointer<Float>, scratch: UnsafeMutableBufferPointer<Float>) -> Int32 {
        let p = parameters
        if p.isGreedy, p.repetitionPenalty == 1, p.presencePenalty == 0, p.frequencyPenalty == 0 { return argmax(logits) }
        precondition(scratch.count >= logits.count, "sampling scratch shorter than the logits")
        let copy = UnsafeMutableBufferPointer(rebasing: scratch[..<logits.count])
        _ = copy.initialize(from: logits)
        return sample(copy)
    }

    /// Chooses the next token from `logits` (vocabulary-sized; modified in place by penalties).
    public mutating func sample(_ logits: UnsafeMutableBufferPointer<Float>) -> Int32 {
        applyPenalties(logits)
        if parameters.isGreedy { return argmax(logits) }
        let invT = 1 / parameters.temperature
        var best = -Float.infinity
        for v in logits where v > best { best = v }
        let floor = best - 30 * parameters.temperature
        candidates.removeAll(keepingCapacity: true)
        for (i, v) in logits.enumerated() where v >= floor { candidates.append((Int32(i), (v - best) * invT)) }
        candidates.sort { $0.logit > $1.logit || ($0.logit == $1.logit && $0.id < $1.id) }
        if parameters.topK > 0, parameters.topK < candidates.count {
            candidates.removeSubrange(parameters.topK...)
        }
        // Probabilities (unnormalised; the best has weight 1).
        var probs = candidates.map { expScalar($0.logit) }
        var total = probs.reduce(0, +)
        if parameters.topP < 1 {
            var cumulative: Float = 0
            var keep = probs.count
            for (i, p) in probs.enumerated() {
                cumulative += p
                if cumulative >= parameters.topP * total { keep = i + 1; break }
            }
            probs.removeSubrange(keep...)
            total = probs.reduce(0, +)
        }
        if parameters.minP > 0 {
            let threshold = parameters.minP * probs[0]
            var keep = probs.count
            while keep > 1, probs[keep - 1] < threshold { keep -= 1 }
            probs.removeSubrange(keep...)
            total = probs.reduce(0, +)
        }
        var r = rng.nextUnit() * total
        for (i, p) in probs.enumerated() {
            r -= p
            if r < 0 { return candidates[i].id }
        }
        return candidates[probs.count - 1].id
    }

    private func applyPenalties(_ logits: UnsafeMutableBufferPointer<Float>) {
        let p = parameters
        if p.repetitionPenalty != 1 {
            func penalise(_ t: Int32) {
                guard t >= 0, Int(t) < logits.count else { return }
                let v = logits[Int(t)]
                logits[Int(t)] = v > 0 ? v / p.repetitionPenalty : v * p.repetitionPenalty
            }
            for t in promptTokens.union(outputCounts.keys) { penalise(t) }
        }
        if p.presencePenalty != 0 || p.frequencyPenalty != 0 {
            for (t, n) in outputCounts where t >= 0 && Int(t) < logits.count {
                logits[Int(t)] -= p.presencePenalty + p.frequencyPenalty * Float(n)
            }
        }
    }
}

/// Index of the largest value (the first on ties).
public func argmax(_ values: UnsafeBufferPointer<Float>) -> Int32 {
    guard let base = values.baseAddress else { return 0 }
    return Int32(argmaxFirst(base, count: values.count))
}

public func argmax(_ values: UnsafeMutableBufferPointer<Float>) -> Int32 {
    argmax(UnsafeBufferPointer(values))
}
