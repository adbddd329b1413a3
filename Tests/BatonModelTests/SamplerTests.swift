// The sampler: greedy, seeds, top-k/top-p/min-p truncation, penalties, and that draws follow
// the softmax distribution.

import Testing
@testable import BatonModel

@Suite struct SamplerTests {
    static let logits: [Float] = [1.0, 3.0, 2.5, -1.0, 0.0, 2.9, 0.5, -3.0]

    func draw(_ p: SamplingParameters, _ logits: [Float] = SamplerTests.logits, count: Int = 1) -> [Int32] {
        var sampler = Sampler(p)
        return (0..<count).map { _ in
            var l = logits
            return l.withUnsafeMutableBufferPointer { sampler.sample($0) }
        }
    }

    @Test func greedyIsArgmax() {
        #expect(draw(.greedy) == [1])
        #expect(draw(.greedy, [0, 5, 5, 1]) == [1], "ties go to the lowest id")
    }

    @Test func samplingFromLogitsLeavesThemAndMatchesSamplingACopy() {
        // The engine samples each row of its logits with sample(from:scratch:): the same picks
        // as sample() on a copy, the logits untouched, and a greedy pick without penalties
        // reads them in place (the scratch, filled with NaN, is not written).
        let settings = [SamplingParameters.greedy, SamplingParameters(temperature: 0, repetitionPenalty: 1.3),
                        SamplingParameters(temperature: 0, presencePenalty: 2), SamplingParameters(temperature: 0.8, seed: 7),
                        SamplingParameters(temperature: 1, topK: 3, seed: 9)]
        for p in settings {
            var viaScratch = Sampler(p), viaCopy = Sampler(p)
            for logits in [SamplerTests.logits, [0, 5, 5, 1, 0, 0, 0, 0], [-4, -3, -3.5, 1, 2, 2.5, 0, 9]] as [[Float]] {
                var scratch = [Float](repeating: .nan, count: logits.count + 3)
                let picked = logits.withUnsafeBufferPointer { l in scratch.withUnsafeMutableBufferPointer { viaScratch.sample(from: l, scratch: $0) } }
                var copy = logits
                let pickedFromCopy = copy.withUnsafeMutableBufferPointer { viaCopy.sample($0) }
                #expect(picked == pickedFromCopy, "\(p)")
                viaScratch.accept(picked)
                viaCopy.accept(picked)
                if p == .greedy { #expect(scratch.allSatisfy { $0.isNaN }, "a plain greedy pick copies nothing") }
            }
        }
    }

    @Test func sameSeedSameOutput() {
        let p = SamplingParameters(temperature: 1, seed: 1234)
        let a = draw(p, count: 200), b = draw(p, count: 200)
        #expect(a == b)
        let c = draw(SamplingParameters(temperature: 1, seed: 99), count: 200)
        #expect(a != c)
    }

    @Test func topKOneAndTinyTopPAreGreedy() {
        #expect(Set(draw(SamplingParameters(temperature: 1.5, topK: 1, seed: 1), count: 100)) == [1])
        #expect(Set(draw(SamplingParameters(temperature: 1.5, topP: 0.01, seed: 2), count: 100)) == [1])
    }

    @Test func topKKeepsTheBestK() {
        let seen = Set(draw(SamplingParameters(temperature: 2, topK: 3, seed: 5), count: 2000))
        #expect(seen == [1, 5, 2])
    }

    @Test func topPKeepsTheSmallestSetOverP() {
        // Probabilities at T=1: 1 (3.0) ≈ .33, 5 (2.9) ≈ .30, 2 (2.5) ≈ .20 … top-p .6 keeps {1, 5}.
        let seen = Set(draw(SamplingParameters(temperature: 1, topP: 0.6, seed: 6), count: 2000))
        #expect(seen == [1, 5])
    }

    @Test func minPDropsUnlikelyTokens() {
        // min-p 0.5: keep tokens with p ≥ 0.5 · p(1): e^(l-3) ≥ 0.5 → l ≥ 2.307: {1, 5, 2}.
        let seen = Set(draw(SamplingParameters(temperature: 1, minP: 0.5, seed: 7), count: 2000))
        #expect(seen == [1, 5, 2])
    }

    @Test func drawsFollowTheSoftmax() {
        let n = 20000
        let counts = draw(SamplingParameters(temperature: 1, seed: 8), count: n).reduce(into: [Int32: Int]()) { $0[$1, default: 0] += 1 }
        let e = Self.logits.map { expf($0) }, total = e.reduce(0, +)
        for (i, p) in e.enumerated() {
            let expected = Double(p / total), got = Double(counts[Int32(i), default: 0]) / Double(n)
            #expect(abs(got - expected) < 0.015, "token \(i): \(got) vs \(expected)")
        }
    }

    @Test func penaltiesLowerRepeatedTokens() {
        var sampler = Sampler(SamplingParameters(temperature: 0, presencePenalty: 0.5))
        sampler.accept(1)
        var l = Self.logits
        // 3.0 - 0.5 = 2.5 < 2.9: token 5 wins.
        #expect(l.withUnsafeMutableBufferPointer { sampler.sample($0) } == 5)
        var f = Sampler(SamplingParameters(temperature: 0, frequencyPenalty: 0.1))
        for _ in 0..<3 { f.accept(1) }
        l = Self.logits
        #expect(l.withUnsafeMutableBufferPointer { f.sample($0) } == 5)
        #expect(abs(l[1] - 2.7) < 1e-6)
        var r = Sampler(SamplingParameters(temperature: 0, repetitionPenalty: 2), prompt: [1, 3])
        l = Self.logits
        #expect(l.withUnsafeMutableBufferPointer { r.sample($0) } == 5)
        #expect(l[1] == 1.5 && l[3] == -2.0)
    }
}

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
