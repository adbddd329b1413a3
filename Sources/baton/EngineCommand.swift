// `baton engine`: one engine replica behind the OpenAI API (vLLM's `vllm serve` flags).

import ArgumentParser
import BatonEngine
import BatonKVTransfer
import BatonModel
import BatonServer
import Foundation
import Logging
import ServiceLifecycle

struct Engine: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve one engine replica over the OpenAI API.")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup(title: "Kernels") var kernels: KernelFlags
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 8000
    @Option(help: "Model name in the API (default: the --model value).") var servedModelName: String?
    @Option(help: "Most sequences per step.") var maxNumSeqs = 64
    @Option(help: "Token budget per step (prefill chunks and decodes).") var maxNumBatchedTokens = 512
    @Option(help: "Context length (default 2048, at most the model's).") var maxModelLen: Int?
    @Option(help: "KV cache size in bytes (suffixes K, M, G, KiB, MiB, GiB).") var kvCacheMemory = "1GiB"
    @Option(help: "KV blocks, overriding --kv-cache-memory.") var numGpuBlocksOverride: Int?
    @Option(help: "KV cache element type: auto (f16), f16 or f32.") var kvCacheDtype = "auto"
    @Option(help: "Tokens per KV block.") var blockSize = 16
    @Flag(inversion: .prefixedEnableDisable, help: "Prefix caching.") var prefixCaching = true
    @Option(help: "Requests waiting at most before 429.") var maxWaiting = 1024
    @Option(help: "Threads (default: all cores, or the --cpu-affinity ones).") var threads: Int?
    @Option(help: "Pin the engine's threads to these CPUs (e.g. 0 or 0,2-3).") var cpuAffinity: String?
    @Option(help: "Require 'Authorization: Bearer KEY' (default: $BATON_API_KEY).") var apiKey: String?
    @Option(help: "Largest request body in bytes.") var maxBodyBytes = 4 << 20
    @Option(help: "Seconds running requests get after SIGTERM.") var shutdownTimeout: Double = 30
    @Option(help: "Seconds: close a connection with no request for this long, or whose request stopped arriving for this long (0: never).")
    var idleTimeout: Double = 75
    @OptionGroup(title: "Prefill/decode disaggregation") var kv: KVTransferOptions

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port must be in 1...65535") }
        guard (1...4096).contains(maxNumSeqs) else { throw ValidationError("--max-num-seqs must be in 1...4096") }
        guard (1...65536).contains(maxNumBatchedTokens) else { throw ValidationError("--max-num-batched-tokens must be in 1...65536") }
        guard (1...1024).contains(blockSize) else { throw ValidationError("--block-size must be in 1...1024") }
        _ = try dtype()
        if let maxModelLen { guard maxModelLen >= 1 else { throw ValidationError("--max-model-len must be at least 1") } }
        if let numGpuBlocksOverride { guard numGpuBlocksOverride >= 1 else { throw ValidationError("--num-gpu-blocks-override must be at least 1") } }
        if let threads { guard (1...256).contains(threads) else { throw ValidationError("--threads must be in 1...256") } }
        _ = try Self.parseBytes(kvCacheMemory)
        if let cpuAffinity { _ = try ProcessControl.parseCPUList(cpuAffinity) }
        _ = try kv.config()
        guard idleTimeout >= 0, idleTimeout < 1e6 else { throw ValidationError("--idle-timeout must be 0 (never) or a positive number of seconds") }
        guard maxWaiting >= 1, maxBodyBytes >= 1024, shutdownTimeout >= 0 else {
            throw ValidationError("--max-waiting ≥ 1, --max-body-bytes ≥ 1024 and --shutdown-timeout ≥ 0")
        }
    }

    func dtype() throws -> KVCacheDType {
        switch kvCacheDtype {
        case "auto", "f16", "float16", "half": return .f16
        case "f32", "float32", "float": return .f32
        default: throw ValidationError("--kv-cache-dtype '\(kvCacheDtype)' is not supported (auto, f16, f32)")
        }
    }

    static func parseBytes(_ text: String) throws -> Int {
        let units: [(String, Int)] = [("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("K", 1000), ("M", 1_000_000), ("G", 1_000_000_000), ("B", 1)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            if let v = Double(text.dropLast(suffix.count)), v > 0, v * Double(scale) < 1e13 { return Int(v * Double(scale)) }
        }
        if let v = Int(text), v > 0 { return v }
        throw ValidationError("--kv-cache-memory '\(text)' is not a size (e.g. 1GiB, 512MiB, 1073741824)")
    }

    func run() async throws {
        #if os(Linux)
        // KV pulls allocate and free megabyte buffers by the dozen: keep freed memory in the
        // heap for the next pull instead of handing it back and faulting it in again.
        _ = glibcMallopt(glibcMmapThreshold, 64 << 20)
        _ = glibcMallopt(glibcTrimThreshold, 256 << 20)
        #endif
        ProcessControl.exitWithParent()
        var logger = Logger(label: "baton.engine")
        logger.logLevel = .info
        if let cpuAffinity {
            let cpus = try ProcessControl.parseCPUList(cpuAffinity)
            try ProcessControl.pin(to: cpus)
            logger.info("pinned to CPU \(cpuAffinity)")
        }
        let key = apiKey ?? ProcessInfo.processInfo.environment["BATON_API_KEY"]
        let name = servedModelName ?? modelOptions.model
        let config = ServerConfig(
            host: host, port: port, servedModelName: name, apiKey: key, maxBodyBytes: maxBodyBytes,
            shutdownTimeoutSeconds: shutdownTimeout, idleTimeoutSeconds: idleTimeout == 0 ? nil : idleTimeout)
        let options = self
        let log = logger
        try await EngineServer.run(config: config, logger: logger) { metrics in
            try options.load(metrics: metrics, name: name, logger: log)
        }
    }

    /// One per pinned CPU, else one per core.
    func defaultThreads() -> Int {
        if let cpuAffinity, let cpus = try? ProcessControl.parseCPUList(cpuAffinity) { return Set(cpus).count }
        return ProcessInfo.processInfo.activeProcessorCount
    }

    func load(metrics: EngineMetrics, name: String, logger: Logger) throws -> EngineHost.Loaded {
        let path = try modelOptions.resolvedPath()
        let requested = SchedulerConfig(
            maxNumSeqs: maxNumSeqs, maxNumBatchedTokens: maxNumBatchedTokens, maxModelLen: maxModelLen ?? 2048,
            enableChunkedPrefill: true, maxWaiting: maxWaiting)
        let serving = try ServingModel.load(
            path: path, threads: threads ?? defaultThreads(), kernels: kernels.options, scheduler: requested)
        let kvBytes = try Self.parseBytes(kvCacheMemory)
        let kvType = try dtype()
        let blocks = numGpuBlocksOverride
            ?? EngineConfig.blockCount(kvCacheBytes: kvBytes, config: serving.model.config, blockSize: blockSize, dtype: kvType)
        let (transfer, notes) = try kv.config() ?? (nil, [])
        for note in notes { logger.notice("\(note)") }
        let engineConfig = EngineConfig(
            scheduler: serving.scheduler, blockSize: blockSize, blockCount: blocks, enablePrefixCaching: prefixCaching,
            kvCacheDType: kvType, servedModelName: name, kvTransfer: transfer)
        let engine = try LLMEngine(
            model: serving.model, tokenizer: serving.tokenizer, config: engineConfig,
            metrics: metrics, logger: logger)
        var services: [any Service] = []
        if let transfer {
            let compatibility = KVCompatibility(
                modelFingerprint: try KVCompatibility.fingerprint(ofFileAt: path), model: serving.model.config, config: engineConfig)
            services = try KVTransferServices.make(engine: engine, config: transfer, compatibility: compatibility, logger: logger)
        }
        logger.info("engine ready: \(path), \(blocks) \(kvType.rawValue) KV blocks of \(blockSize) tokens, context \(serving.scheduler.maxModelLen), listening on \(host):\(port)")
        return EngineHost.Loaded(engine: engine, serving: serving, services: services)
    }
}

#if os(Linux)
// glibc's mallopt and its parameters (malloc.h, which the Glibc module does not export).
@_silgen_name("mallopt") private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
private let glibcTrimThreshold: Int32 = -1
private let glibcMmapThreshold: Int32 = -3
#endif
