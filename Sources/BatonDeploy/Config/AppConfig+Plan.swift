// The resolved plan as text, printed by `baton serve --check`: what would run, with every
// default filled in, and the ignored keys once at the end.

import BatonOpenAI
import BatonRouter

extension AppConfig {
    /// A human-readable description of what `baton serve` would start.
    public var plan: String {
        let app = application
        var lines: [String] = []
        lines.append("application \(app.name) (\(app.kind == .pd ? "prefill/decode" : "collocated")) at \(app.routePrefix)")
        lines.append("  model \(app.model.modelID) from \(app.model.modelSource)")
        switch app.pdMode {
        case .pooled where app.kind == .pd: lines.append("  pd_mode pooled (any prefill with any decode)")
        case .replica(let p, let d): lines.append("  pd_mode replica: groups of \(p) prefill + \(d) decode, scaled as whole groups")
        default: break
        }
        for pool in app.pools { lines += pool.planLines(pdMode: app.pdMode) }
        lines.append("router on \(router.host):\(router.port)")
        lines.append("  split_threshold \(router.splitThreshold) tokens, block_size \(router.blockSize), prefill_failure \(router.prefillFailure.rawValue), wait_for_decode \(router.waitForDecode.planSeconds)")
        lines.append("  weights prefix \(formatNumber(router.weights.prefix)) load \(formatNumber(router.weights.load)) session \(formatNumber(router.weights.session)), session_header \(router.sessionHeader)")
        lines.append("  auth \(router.apiKeys.isEmpty ? "off" : "\(router.apiKeys.count) key(s)"), tokenizer \(router.tokenizer.planText)")
        if !ignored.isEmpty {
            lines.append("\(ignored.count) ignored key(s):")
            lines += ignored.map { "  \($0)" }
        }
        return lines.joined(separator: "\n")
    }
}

extension PoolConfig {
    func planLines(pdMode: PDMode) -> [String] {
        let llm = self.llm
        var lines: [String] = []
        let unit: String
        switch (pdMode, role) {
        case (.replica(let p, _), .prefill): unit = " (\(p) per group)"
        case (.replica(_, let d), .decode): unit = " (\(d) per group; replicas count groups)"
        default: unit = ""
        }
        lines.append("  \(role.rawValue) pool: \(llm.scaling.planText)\(unit)")
        if role == .prefill, case .autoscaled(let a) = llm.scaling, a.minReplicas == 0 {
            lines.append("    at 0 prefill replicas every request takes the router's local path")
        }
        let e = llm.engine
        var engine = "    engine block_size \(e.blockSize), kv_cache_dtype \(e.kvCacheDtype), prefix caching \(e.enablePrefixCaching ? "on" : "off")"
        if let v = e.maxNumSeqs { engine += ", max_num_seqs \(v)" }
        if let v = e.maxNumBatchedTokens { engine += ", max_num_batched_tokens \(v)" }
        if let v = e.maxModelLen { engine += ", max_model_len \(v)" }
        if let kv = e.kvTransfer { engine += ", kv_role \(kv.role.rawValue)" }
        lines.append(engine)
        let d = llm.deployment
        var dep = "    health every \(d.healthCheckPeriod.planSeconds) (timeout \(d.healthCheckTimeout.planSeconds)), graceful shutdown \(d.gracefulShutdownTimeout.planSeconds)"
        if let m = d.maxOngoingRequests { dep += ", max_ongoing_requests \(m)" }
        lines.append(dep)
        if !llm.envVars.isEmpty {
            lines.append("    env " + llm.envVars.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        }
        return lines
    }
}

extension ReplicaScaling {
    var planText: String {
        switch self {
        case .fixed(let n): return "\(n) fixed replica\(n == 1 ? "" : "s")"
        case .autoscaled(let a):
            return "autoscaled \(a.minReplicas)…\(a.maxReplicas) (start \(a.startReplicas)) on \(a.targetMetric.rawValue) "
                + "target \(formatNumber(a.target)) per replica, look-back \(a.lookBackPeriod.planSeconds), "
                + "up after \(a.upscaleDelay.planSeconds) ×\(formatNumber(a.upscalingFactor)), "
                + "down after \(a.downscaleDelay.planSeconds) ×\(formatNumber(a.downscalingFactor))"
        }
    }
}

extension TokenizerSource {
    var planText: String {
        switch self {
        case .remote: "remote (the engines' /tokenize)"
        case .gguf(let path): "\(path)'s, loaded in the router"
        }
    }
}

extension Duration {
    /// `30s`, `0.5s`.
    var planSeconds: String {
        formatNumber(seconds) + "s"
    }
}
