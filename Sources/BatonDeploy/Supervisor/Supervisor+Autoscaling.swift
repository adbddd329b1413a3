// The supervisor's side of autoscaling: every interval, each autoscaled pool's PoolAutoscaler
// gets its replicas' load (the router's in-flight counts and scraped engine metrics) and a tick;
// its actions are carried out here: start replicas (added to the router once healthy), drain
// one in the router, and stop it for good once it has no request in flight.

import BatonRouter
import Foundation

extension Supervisor {
    func autoscale() async {
        guard state.withLock({ !$0.autoscalers.isEmpty }) else { return }
        while !isStopping {
            if (try? await Task.sleep(for: settings.autoscaleInterval)) == nil { return }
            guard !isStopping else { return }
            for (role, action) in sample() { carryOut(action, role: role) }
        }
    }

    /// One sample and tick of every autoscaled pool; the actions to carry out.
    func sample() -> [(PoolRole, AutoscalerAction)] {
        var byURL: [String: EndpointPool.Member] = [:]
        for (member, _) in router.members() { byURL[member.endpoint.url] = member }
        let splitsWithoutPrefill = router.splitsWithoutPrefill()
        let now = ContinuousClock.now - started
        return state.withLock { s in
            let unmet = Double(splitsWithoutPrefill - s.lastSplitsWithoutPrefill)
            s.lastSplitsWithoutPrefill = splitsWithoutPrefill
            var actions: [(PoolRole, AutoscalerAction)] = []
            for role in s.autoscalers.keys.sorted(by: { $0.rawValue < $1.rawValue }) {
                var loads: [String: ReplicaLoad] = [:]
                var idle: [String] = []
                for r in s.replicas.values where r.spec.role == role {
                    guard let m = byURL[r.spec.url] else { continue }
                    loads[r.spec.name] = ReplicaLoad(
                        inFlight: m.inFlight, queuedPromptTokens: m.load?.queuedPromptTokens ?? 0, kvCacheUsage: m.load?.kvUsage ?? 0)
                    if r.phase == .draining, m.inFlight == 0 { idle.append(r.spec.name) }
                }
                // A prefill pool with no replica up does not see the requests that wanted it.
                let pending = role == .prefill && loads.isEmpty ? unmet : 0
                s.autoscalers[role]?.observe(at: now, loads: loads, pending: pending)
                actions += (s.autoscalers[role]?.tick(at: now) ?? []).map { (role, $0) }
                for name in idle {
                    actions += (s.autoscalers[role]?.drained(name) ?? []).map { (role, $0) }
                }
            }
            return actions
        }
    }

    func carryOut(_ action: AutoscalerAction, role: PoolRole) {
        guard let pool = app.pool(role) else { return }
        switch action {
        case .start(let count):
            for _ in 0..<count {
                do {
                    let cpus = nextCPUs()
                    let spec = try makeSpec(pool, cpus: cpus)
                    logger.info("autoscaler: \(role.rawValue) pool up, starting \(spec.name)")
                    launch.yield(spec)
                } catch {
                    logger.error("autoscaler: could not start a \(role.rawValue) replica: \(error)")
                    state.withLock { $0.autoscalers[role]?.replicaRemoved(nil) }
                }
            }
        case .drain(let name):
            guard let url = state.withLock({ s -> String? in
                s.replicas[name]?.phase = .draining
                return s.replicas[name]?.spec.url
            }) else { return }
            logger.info("autoscaler: \(role.rawValue) pool down, draining \(name)")
            router.drain(url)
        case .stop(let name):
            let child = state.withLock { s -> ChildProcess? in
                s.retired.insert(name)
                s.replicas[name]?.phase = .stopping
                return s.children[name]
            }
            logger.info("autoscaler: \(name) drained, stopping it")
            let grace = pool.llm.deployment.gracefulShutdownTimeout
            if let child { Task { await child.stop(grace: grace) } }
        }
    }

    /// The cores for the next replica started at run time: the next in turn.
    func nextCPUs() -> [Int] {
        guard !settings.cpus.isEmpty else { return [] }
        return state.withLock { s in
            defer { s.cpuTurn += 1 }
            return [settings.cpus[s.cpuTurn % settings.cpus.count]]
        }
    }
}
