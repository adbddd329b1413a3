// `baton bench`'s workloads: seeded random prompts, JSONL files and their errors, and the
// Poisson arrival schedule.

import BatonDeploy
import Foundation
import Testing

@Suite struct BenchWorkloadTests {
    @Test func randomPromptsAreSeeded() {
        let a = BenchWorkload.random(count: 3, inputTokens: 20, outputTokens: 7, seed: 1)
        #expect(a == BenchWorkload.random(count: 3, inputTokens: 20, outputTokens: 7, seed: 1))
        #expect(a != BenchWorkload.random(count: 3, inputTokens: 20, outputTokens: 7, seed: 2))
        #expect(a.allSatisfy { $0.outputTokens == 7 && $0.estimatedPromptTokens == 20 && $0.prompt.split(separator: " ").count == 19 })
        #expect(Set(a.map { $0.prompt.prefix(3) }).count == 3, "distinct first words: no shared prefix")
    }

    @Test func jsonlLines() throws {
        let file = try BenchWorkload.jsonl("{\"prompt\": \"hi\", \"output_len\": 5}\n\n{\"prompt\": \"yo\", \"extra\": 1}\n", defaultOutputTokens: 9)
        #expect(file == [BenchPrompt(prompt: "hi", outputTokens: 5), BenchPrompt(prompt: "yo", outputTokens: 9)])
        let crlf = try BenchWorkload.jsonl("{\"prompt\": \"a\"}\r\n{\"prompt\": \"b\"}\r\n", defaultOutputTokens: 1)
        #expect(crlf.map(\.prompt) == ["a", "b"])
    }

    @Test(arguments: [
        ("{\"prompt\": \"a\"}\n[1]", 2), ("{\"prompt\": 3}", 1), ("{\"prompt\": \"a\", \"output_len\": 0}", 1),
        ("{\"prompt\": \"a\", \"output_len\": 1.5}", 1), ("{\"prompt\": \"\"}", 1), ("\n\n{\"text\": \"a\"}", 3), ("{\"prompt\": \"a\"", 1),
    ])
    func jsonlErrorsNameTheirLine(text: String, line: Int) {
        #expect {
            try BenchWorkload.jsonl(text, defaultOutputTokens: 1)
        } throws: { error in
            (error as? BenchWorkloadError)?.description.hasPrefix("line \(line):") == true
        }
    }

    @Test func anEmptyFileIsAnError() {
        #expect(throws: BenchWorkloadError.self) { try BenchWorkload.jsonl("\n \n", defaultOutputTokens: 1) }
    }

    @Test func arrivalsArePoissonAndSeeded() {
        #expect(BenchWorkload.arrivals(count: 3, rate: .infinity, seed: 0) == [0, 0, 0])
        let poisson = BenchWorkload.arrivals(count: 2000, rate: 4, seed: 3)
        #expect(poisson == BenchWorkload.arrivals(count: 2000, rate: 4, seed: 3), "the same seed, the same schedule")
        #expect(poisson != BenchWorkload.arrivals(count: 2000, rate: 4, seed: 4))
        #expect(poisson.first == 0 && zip(poisson, poisson.dropFirst()).allSatisfy { $0 <= $1 })
        let gaps = zip(poisson.dropFirst(), poisson).map { $0 - $1 }
        let mean = gaps.reduce(0, +) / Double(gaps.count)
        let sd = (gaps.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(gaps.count)).squareRoot()
        // Exponential gaps: mean and standard deviation both 1/rate.
        #expect(abs(mean - 0.25) < 0.03 && abs(sd - 0.25) < 0.04, "gaps: mean \(mean) s, sd \(sd) s at 4 requests/s")
    }
}
