// What `baton bench` sends and when: prompts from a seeded random generator or a JSONL file, and
// arrival times (all at once, or a Poisson process at a mean request rate, seeded).

import BatonModel  // SeededGenerator: the sampler's, the same on every platform
import Foundation

public enum BenchWorkload {
    /// Words of one BPE token each in SmolLM2's tokenizer (and most others'), so `inputTokens`
    /// words make about that many tokens; the real count comes back in `usage`.
    static let words = "the of and to in is was for on that with as by at from his it an were are which this be or has had not but first one their its new after who they have her she two been other when there all during into school time may years more most only over city some world would where later up such used many can state about national out known university united then made".split(separator: " ").map(String.init)

    /// `count` prompts of about `inputTokens` tokens, each asking for `outputTokens`.
    public static func random(count: Int, inputTokens: Int, outputTokens: Int, seed: UInt64) -> [BenchPrompt] {
        var rng = SeededGenerator(seed: seed)
        return (0..<count).map { i in
            // A distinct first word per request: prompts share no cached prefix.
            let body = (0..<max(inputTokens - 2, 1)).map { _ in words.randomElement(using: &rng)! }
            return BenchPrompt(prompt: "\(i): " + body.joined(separator: " "), outputTokens: outputTokens, estimatedPromptTokens: inputTokens)
        }
    }

    /// JSONL, one request a line: `{"prompt": "…", "output_len": N}` (`output_len` optional:
    /// `defaultOutputTokens`). Blank lines are skipped; anything else wrong names its line.
    public static func jsonl(_ text: String, defaultOutputTokens: Int) throws -> [BenchPrompt] {
        var out: [BenchPrompt] = []
        // `\r\n` is one Character, and a newline: CRLF files split as LF ones do.
        for (n, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { continue }
            struct Line: Decodable {
                var prompt: String
                var output_len: Int?
            }
            let parsed: Line
            do {
                parsed = try JSONDecoder().decode(Line.self, from: Data(trimmed.utf8))
            } catch {
                throw BenchWorkloadError(description: "line \(n + 1): expected {\"prompt\": string, \"output_len\": integer} (\(error))")
            }
            let prompt = parsed.prompt
            guard !prompt.isEmpty else { throw BenchWorkloadError(description: "line \(n + 1): \"prompt\" is empty") }
            let outputTokens = parsed.output_len ?? defaultOutputTokens
            guard outputTokens >= 1 else {
                throw BenchWorkloadError(description: "line \(n + 1): \"output_len\" must be at least 1 (got \(outputTokens))")
            }
            out.append(BenchPrompt(prompt: prompt, outputTokens: outputTokens))
        }
        guard !out.isEmpty else { throw BenchWorkloadError(description: "no request in the file") }
        return out
    }

    /// When each of `count` requests is sent, in seconds from the start: all at 0 for an
    /// infinite rate, else exponential gaps of mean 1/rate (a Poisson process), seeded.
    public static func arrivals(count: Int, rate: Double, seed: UInt64) -> [Double] {
        guard rate.isFinite, rate > 0 else { return Array(repeating: 0, count: count) }
        var rng = SeededGenerator(seed: seed ^ 0xA5A5_A5A5)
        var t = 0.0
        return (0..<count).map { _ in
            defer { t += -log(1 - Double.random(in: 0..<1, using: &rng)) / rate }
            return t
        }
    }
}
