// The `baton` command line as a user runs it: the built binary (scripts/test.sh builds it
// before the tests) in a child process, on the real model.

import BatonModel
import Foundation
import BatonTesting
import Testing

@Suite(.serialized) struct CLITests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let binary = root.appendingPathComponent(".build/debug/baton").path

    struct Result: Sendable { let status: Int32; let stdout: String; let stderr: String }

    static func baton(_ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw RealModelMissing(description: "\(binary) is not built; run scripts/test.sh")
        }
        // Both pipes drained at once (an engine's log on stderr can fill its pipe first).
        let r = try ScriptRunner.runBlocking(binary, arguments, environment: environment)
        return Result(status: r.status, stdout: r.stdout, stderr: r.stderr)
    }

    @Test func tokenizePrintsIdsAsJSON() throws {
        _ = try RealModel.require()
        // Expected ids come from llama.cpp (the tokenizer fixture), for a string with specials.
        let ref = try RealModel.fixture("tokenizer_reference.json", as: TokenizerReference.self)
        let c = try #require(ref.cases.first { $0.text.contains("<|im_start|>") && $0.text.contains("\n") })
        let r = try Self.baton(["tokenize", "--model", RealModel.path, "--special", c.text])
        #expect(r.status == 0)
        #expect(r.stdout == "[" + c.ids_special.map(String.init).joined(separator: ",") + "]\n", "\(c.text.debugDescription)")
        let plain = try Self.baton(["tokenize", "--model", RealModel.path, "<|im_end|>"])
        #expect(plain.stdout != "[2]\n", "without --special the marker is plain text")
    }

    @Test func generateStreamsTextAndEndsStderrWithTimings() throws {
        _ = try RealModel.require()
        let args = ["generate", "--model", RealModel.path, "--prompt", "The capital of France is", "--max-tokens", "12", "--ignore-eos", "--threads", "2"]
        let a = try Self.baton(args), b = try Self.baton(args)
        #expect(a.status == 0)
        #expect(a.stdout.hasPrefix(" Paris"), "\(a.stdout)")
        #expect(a.stdout == b.stdout, "greedy output is deterministic")
        let last = a.stderr.split(separator: "\n").last.map(String.init) ?? ""
        let pattern = #/^prompt_tokens=5 prefill_tok_s=[0-9]+\.[0-9]+ generated_tokens=12 decode_tok_s=[0-9]+\.[0-9]+$/#
        #expect(last.wholeMatch(of: pattern) != nil, "stderr last line: \(last)")
        // Same seed, same sampled text.
        let sampled = ["generate", "--model", RealModel.path, "--prompt", "Once upon a time", "--max-tokens", "16", "--temperature", "0.9", "--top-p", "0.9", "--seed", "7"]
        #expect(try Self.baton(sampled).stdout == (try Self.baton(sampled).stdout))
    }

    /// `--no-vnni` and `--[no-]vnni-wide` reach the kernels as options and change no bit: the same
    /// greedy text on every kernel (a 5-token prefill takes the batched matmul).
    @Test func generateTakesTheKernelFlags() throws {
        _ = try RealModel.require()
        let args = ["generate", "--model", RealModel.path, "--prompt", "The capital of France is", "--max-tokens", "8", "--threads", "2"]
        let plain = try Self.baton(args)
        #expect(plain.status == 0)
        for flags in [["--no-vnni"], ["--vnni-wide"], ["--no-vnni-wide"], ["--no-vnni", "--vnni-wide"]] {
            let r = try Self.baton(args + flags)
            #expect(r.status == 0 && r.stdout == plain.stdout, "\(flags): \(r.stdout) vs \(plain.stdout) \(r.stderr)")
        }
    }

    @Test func badArgumentsAreClearErrors() async throws {
        let r = try Self.baton(["generate", "--model", "/nonexistent.gguf", "--prompt", "x"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("neither a known model"))
        let t = try Self.baton(["generate", "--model", RealModel.path, "--prompt", "x", "--temperature", "3"])
        #expect(t.status != 0 && t.stderr.contains("--temperature"))
        let context = try Self.baton(["generate", "--model", RealModel.path, "--prompt", "x", "--context-length", "0"])
        #expect(context.status != 0 && context.stderr.contains("--context-length"), "\(context.stderr)")
        let huge = try Self.baton(["generate", "--model", RealModel.path, "--prompt", "x", "--max-tokens", "\(Int.max)"])
        #expect(huge.status != 0 && huge.stderr.contains("exceeds the context length"), "\(huge.stderr)")
        let empty = try Self.baton(["generate", "--model", RealModel.path, "--prompt", ""])
        #expect(empty.status != 0 && empty.stderr.contains("empty"), "\(empty.stderr)")
        // The engine server: a model that fails to load ends the process with the load's error
        // (a graceful shutdown of the listening server, not a crash or a hang).
        let engine = try Self.baton(["engine", "--model", "/nonexistent.gguf", "--port", "\(try await freeLoopbackPort())"])
        #expect(engine.status == 1 && engine.stderr.contains("neither a known model"), "\(engine.status) \(engine.stderr)")
        let notGGUF = try Self.baton(["tokenize", "--model", #filePath, "x"])
        #expect(notGGUF.status != 0 && notGGUF.stderr.contains("not a GGUF file"))
    }

    /// Two pulls at once into an empty cache: one downloads, the other waits on the lock and
    /// finds the file; both print the same verified path last.
    @Test func concurrentPullsAreSafe() async throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("baton-pull-\(getpid())")
        defer { try? FileManager.default.removeItem(at: home) }
        let env = ["BATON_HOME": home.path]
        async let first = Task.detached { try Self.baton(["model", "pull", "smollm2"], environment: env) }.value
        async let second = Task.detached { try Self.baton(["model", "pull", "smollm2"], environment: env) }.value
        let results = try await [first, second]
        let paths = results.map { r in
            #expect(r.status == 0, "\(r.stderr)")
            return r.stdout.split(separator: "\n").last.map(String.init) ?? ""
        }
        #expect(paths[0] == paths[1])
        #expect(paths[0] == ModelCache.path(of: .smollm2, environment: env))
        let size = try FileManager.default.attributesOfItem(atPath: paths[0])[.size] as? Int
        #expect(size == KnownModel.smollm2.size)
        let again = try Self.baton(["model", "pull"], environment: env)
        #expect(again.stderr.contains("already"))
    }
}
