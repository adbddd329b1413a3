// The engine on the real model: many requests at once give each the same greedy tokens as
// running alone, and every block comes back.

import BatonEngine
import BatonModel
import BatonTesting
import Foundation
import Testing

final class RunningEngine: Sendable {
    let engine: LLMEngine
    let serving: ServingModel

    init(maxNumSeqs: Int = 16, budget: Int = 256, blocks: Int = 512, dtype: KVCacheDType = .f16) throws {
        _ = try RealModel.require()
        let scheduler = SchedulerConfig(maxNumSeqs: maxNumSeqs, maxNumBatchedTokens: budget, maxModelLen: 1024)
        serving = try ServingModel.load(path: RealModel.path, threads: 2, scheduler: scheduler)
        engine = try LLMEngine(
            model: serving.model, tokenizer: serving.tokenizer,
            config: EngineConfig(scheduler: scheduler, blockCount: blocks, kvCacheDType: dtype, servedModelName: "smollm2"))
        let engine = self.engine
        Thread { engine.runLoop() }.start()
    }

    deinit { engine.stop() }

    func prompt(_ text: String) throws -> [Int32] {
        let template = try serving.chatTemplate.get()
        return serving.tokenizer.encode(template.render([ChatMessage(role: "user", content: text)]), addSpecial: true, parseSpecial: true)
    }

    /// All outputs of one request, concatenated.
    func run(_ id: String, _ tokens: [Int32], maxTokens: Int, stop: [String] = []) async throws -> RequestOutput {
        let params = RequestParameters(maxTokens: maxTokens, sampling: .greedy, stopTokenIds: serving.endTokenIds, stopStrings: stop)
        var all = RequestOutput()
        for try await out in try engine.generate(EngineRequest(id: id, promptTokenIds: tokens, parameters: params)) {
            all.merge(out)
        }
        return all
    }
}

let questions = [
    "What is the capital of France?", "Write a haiku about the sea.", "Explain photosynthesis briefly.",
    "List three prime numbers.", "Who wrote Hamlet?", "What is 12 times 12?", "Name a color of the rainbow.",
    "Describe a cat in one sentence.", "What does a CPU do?", "Give me a synonym for happy.",
    "How many legs does a spider have?", "Translate 'hello' to Spanish.", "What is the boiling point of water?",
    "Suggest a name for a dog.", "Why is the sky blue?", "What is a noun?",
]

@Suite(.serialized) struct EngineTests {
    @Test func batchedGreedyOutputEqualsAlone() async throws {
        let e = try RunningEngine()
        let prompts = try questions.map(e.prompt)
        var alone: [[Int32]] = []
        for (i, p) in prompts.enumerated() {
            alone.append(try await e.run("alone-\(i)", p, maxTokens: 24).tokenIds)
        }
        e.engine.resetPrefixCache()
        let together = try await withThrowingTaskGroup(of: (Int, [Int32]).self) { group in
            for (i, p) in prompts.enumerated() {
                group.addTask { (i, try await e.run("together-\(i)", p, maxTokens: 24).tokenIds) }
            }
            var out = [[Int32]](repeating: [], count: prompts.count)
            for try await (i, tokens) in group { out[i] = tokens }
            return out
        }
        for i in prompts.indices {
            #expect(together[i] == alone[i], "prompt \(i): \(questions[i])")
        }
        #expect(alone.allSatisfy { !$0.isEmpty })
        let snapshot = e.engine.snapshot
        #expect(snapshot.referencedBlocks == 0)
        #expect(snapshot.running == 0 && snapshot.waiting == 0)
    }

    @Test func f32CacheGivesTheSameTokensBatchedAsAlone() async throws {
        let e = try RunningEngine(blocks: 256, dtype: .f32)
        let prompts = try questions.prefix(6).map(e.prompt)
        var alone: [[Int32]] = []
        for (i, p) in prompts.enumerated() { alone.append(try await e.run("a\(i)", p, maxTokens: 16).tokenIds) }
        e.engine.resetPrefixCache()
        let together = try await withThrowingTaskGroup(of: (Int, [Int32]).self) { group in
            for (i, p) in prompts.enumerated() { group.addTask { (i, try await e.run("t\(i)", p, maxTokens: 16).tokenIds) } }
            var out = [[Int32]](repeating: [], count: prompts.count)
            for try await (i, tokens) in group { out[i] = tokens }
            return out
        }
        #expect(together == alone)
        // The f16 engine answers the first prompt; f32 attention differs only by rounding, so
        // its first token (a clear-cut choice) is the same.
        let f16 = try RunningEngine(blocks: 64)
        let reference = try await f16.run("ref", prompts[0], maxTokens: 1).tokenIds
        #expect(reference.first == alone[0].first)
    }

    @Test func prefixCacheHitsReportCachedTokensAndKeepTheOutput() async throws {
        let e = try RunningEngine()
        let long = try e.prompt(String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 20) + "How many foxes?")
        let first = try await e.run("first", long, maxTokens: 8)
        let second = try await e.run("second", long, maxTokens: 8)
        #expect(first.cachedTokens == 0)
        #expect(second.cachedTokens == (long.count - 1) / 16 * 16)
        #expect(second.promptTokens == long.count)
        #expect(second.tokenIds == first.tokenIds)
    }

    @Test func stopStringsEndTheRequestAndStayOutOfTheText() async throws {
        let e = try RunningEngine()
        let p = try e.prompt("Count from 1 to 10, separated by commas.")
        let free = try await e.run("free", p, maxTokens: 40)
        let text = free.text
        // Stop at the first comma-free piece that occurs after the start.
        let stop = ", 3"
        #expect(text.contains(stop), "expected the model to count: \(text)")
        let stopped = try await e.run("stopped", p, maxTokens: 40, stop: [stop])
        #expect(stopped.finishReason == .stop)
        #expect(stopped.stopReason == .string(stop))
        #expect(!stopped.text.contains(stop))
        #expect(text.hasPrefix(stopped.text))
        #expect(e.engine.snapshot.referencedBlocks == 0)
    }

    @Test func abortingAStreamFreesItsBlocks() async throws {
        let e = try RunningEngine()
        let p = try e.prompt("Tell me a long story about a dragon.")
        let params = RequestParameters(maxTokens: 200, sampling: .greedy, stopTokenIds: [])
        let stream = try e.engine.generate(EngineRequest(id: "gone", promptTokenIds: p, parameters: params))
        var seen = 0
        for try await _ in stream {
            seen += 1
            if seen == 3 { break }   // drops the iterator: the consumer is gone
        }
        for _ in 0..<100 where e.engine.snapshot.referencedBlocks > 0 { try await Task.sleep(for: .milliseconds(20)) }
        #expect(e.engine.snapshot.referencedBlocks == 0)
        #expect(e.engine.snapshot.running == 0)
    }
}
