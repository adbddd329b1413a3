// One engine replica as the supervisor starts it: its name, ports, cores, and the `baton engine`
// command line its pool's LLMConfig implies. Pure: built and checked without a process.

/// One replica of a pool, fully resolved.
public struct ReplicaSpec: Sendable, Equatable {
    /// `prefill-0`, `decode-1`, `engine-0`: its log prefix and its name in `baton status`.
    public var name: String
    public var role: PoolRole
    public var port: Int
    /// The KV transfer server's port (engines that produce KV: prefill and collocated PD).
    public var kvPort: Int?
    /// Cores the engine is pinned to (`--cpu-affinity`); its thread count.
    public var cpus: [Int]
    /// `engine …` (the binary is the supervisor's own).
    public var arguments: [String]
    /// Added to the supervisor's environment.
    public var environment: [String: String]
    /// Its xPyD group in `pd_mode: replica` (requests stay inside a group).
    public var group: Int?

    public var url: String { "http://127.0.0.1:\(port)" }
}

extension PoolRole {
    /// The router's pool for this role's engines: collocated engines serve as decodes (every
    /// request on the local path).
    public var routerRole: String { self == .prefill ? "prefill" : "decode" }

    /// The replica name's stem.
    var replicaStem: String { self == .both ? "engine" : rawValue }
}

extension PoolConfig {
    /// The `index`th replica of this pool.
    public func replica(
        _ index: Int, app: Application, context: ReplicaContext, port: Int, kvPort: Int?, cpus: [Int]
    ) -> ReplicaSpec {
        let name = "\(role.replicaStem)-\(index)"
        let e = llm.engine
        var args = [
            "engine", "--model", context.modelPath, "--served-model-name", app.model.modelID,
            "--host", "127.0.0.1", "--port", String(port),
            "--threads", String(max(cpus.count, 1)),
            "--block-size", String(e.blockSize), "--kv-cache-dtype", e.kvCacheDtype,
            "--shutdown-timeout", formatNumber(llm.deployment.gracefulShutdownTimeout.seconds),
        ]
        if !cpus.isEmpty { args += ["--cpu-affinity", cpus.map(String.init).joined(separator: ",")] }
        if !e.enablePrefixCaching { args.append("--disable-prefix-caching") }
        if let v = e.maxNumSeqs { args += ["--max-num-seqs", String(v)] }
        if let v = e.maxNumBatchedTokens { args += ["--max-num-batched-tokens", String(v)] }
        if let v = e.maxModelLen { args += ["--max-model-len", String(v)] }
        var kvPort = kvPort
        if let kv = e.kvTransfer, app.kind == .pd {
            args += ["--kv-role", kv.role.rawValue, "--kv-engine-id", "\(app.name)-\(name)"]
            if kv.role != .consumer, let kvPort { args += ["--kv-port", String(kvPort)] } else { kvPort = nil }
        } else {
            kvPort = nil
        }
        var env = llm.envVars
        env["BATON_API_KEY"] = context.engineAPIKey
        env["BATON_KV_SECRET"] = context.kvSecret
        return ReplicaSpec(name: name, role: role, port: port, kvPort: kvPort, cpus: cpus, arguments: args, environment: env, group: nil)
    }
}

/// Which cores each replica gets: `available` dealt out in turn, one core per replica while
/// there are as many cores as replicas (the default app: prefill on one, decode on the other),
/// an even share of them when there are more cores.
public func cpuAssignment(replicas: Int, available: [Int]) -> [[Int]] {
    guard replicas > 0 else { return [] }
    guard !available.isEmpty else { return Array(repeating: [], count: replicas) }
    let share = max(available.count / replicas, 1)
    return (0..<replicas).map { r in
        (0..<share).map { available[(r * share + $0) % available.count] }
    }
}
