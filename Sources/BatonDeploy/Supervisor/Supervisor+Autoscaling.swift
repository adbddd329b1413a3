// The supervisor's side of autoscaling: every interval, each autoscaled pool's PoolAutoscaler
// gets its replicas' load (the router's in-flight counts and scraped engine metrics) and a tick;
// its actions are carried out here: start replicas (added to the router once healthy), drain
// one in the router, and stop it for good once it has no request in flight.
//
// In replica mode the autoscaler is decode_config's and its "replicas" are whole xPyD groups
// (`group-N`): a group's load is its decodes' requests in flight, it is ready once every member
// is, and it is started, drained and stopped as one.

import BatonRouter
import Foundation

extension Supervisor.State {
    /// The autoscaler and the name it knows `spec` by: its own name (pooled) or its group's.
    func scalingUnit(of spec: ReplicaSpec, mode: PDMode) -> (PoolRole, String)? {
        if case .replica = mode {
            guard let g = spec.group, autoscalers[.decode] != nil else { return nil }
            return (.decode, "group-\(g)")
        }
        return autoscalers[spec.role] == nil ? nil : (spec.role, spec.name)
    }

    /// Pooled: the replica itself. Replica mode: every member of its group is ready.
    func isUnitReady(_ unit: String, spec: ReplicaSpec, mode: PDMode) -> Bool {
        guard case .replica(let x, let y) = mode else { return true }
        let members = replicas.values.filter { $0.spec.group == spec.group }
        return members.count == x + y && members.allSatisfy { $0.phase == .ready }
    }

    /// The replicas an autoscaler's unit stands for.
    func members(of unit: String, role: PoolRole, mode: PDMode) -> [Supervisor.ReplicaState] {
        if case .replica = mode { return replicas.values.filter { "group-\($0.spec.group ?? -1)" == unit } }
        return replicas[unit].map { [$0] } ?? []
    }
}

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
        let mode = app.pdMode
        return state.withLock { s in
            let unmet = Double(splitsWithoutPrefill - s.lastSplitsWithoutPrefill)
            s.lastSplitsWithoutPrefill = splitsWithoutPrefill
            var units: [PoolRole: [String: [ReplicaState]]] = [:]
            for r in s.replicas.values {
                guard let (role, unit) = s.scalingUnit(of: r.spec, mode: mode) else { continue }
                units[role, default: [:]][unit, default: []].append(r)
            }
            var actions: [(PoolRole, AutoscalerAction)] = []
            for role in s.autoscalers.keys.sorted(by: { $0.rawValue < $1.rawValue }) {
                var loads: [String: ReplicaLoad] = [:]
                var idle: [String] = []
                for (unit, members) in units[role] ?? [:] {
                    let routed = members.compactMap { m in byURL[m.spec.url].map { (m, $0) } }
                    guard !routed.isEmpty else { continue }
                    // A group's requests are its decodes' (its prefills' are the same requests, earlier).
                    let serving = if case .replica = mode { routed.filter { $0.0.spec.role == .decode } } else { routed }
                    loads[unit] = ReplicaLoad(
                        inFlight: serving.reduce(0) { $0 + $1.1.inFlight },
                        queuedPromptTokens: routed.reduce(0) { $0 + ($1.1.load?.queuedPromptTokens ?? 0) },
                        kvCacheUsage: serving.map { $0.1.load?.kvUsage ?? 0 }.max() ?? 0)
                    if members.allSatisfy({ $0.phase == .draining }), routed.allSatisfy({ $0.1.inFlight == 0 }) { idle.append(unit) }
                }
                // A prefill pool with no replica up does not see the requests that wanted it.
                let pending = role == .prefill && loads.isEmpty ? unmet : 0
                s.autoscalers[role]?.observe(at: now, loads: loads, pending: pending)
                actions += (s.autoscalers[role]?.tick(at: now) ?? []).map { (role, $0) }
                for unit in idle.sorted() {
                    actions += (s.autoscalers[role]?.drained(unit) ?? []).map { (role, $0) }
                }
            }
            return actions
        }
    }

    func carryOut(_ action: AutoscalerAction, role: PoolRole) {
        switch action {
        case .start(let count):
            for _ in 0..<count { startUnit(role: role) }
        case .drain(let unit):
            let urls = state.withLock { s in
                s.members(of: unit, role: role, mode: app.pdMode).map { m in
                    s.replicas[m.spec.name]?.phase = .draining
                    return m.spec.url
                }
            }
            logger.info("autoscaler: \(role.rawValue) pool down, draining \(unit)")
            for url in urls { router.drain(url) }
        case .stop(let unit):
            let children = state.withLock { s in
                s.members(of: unit, role: role, mode: app.pdMode).map { m -> (ChildProcess?, Duration) in
                    s.retired.insert(m.spec.name)
                    s.replicas[m.spec.name]?.phase = .stopping
                    return (s.children[m.spec.name], app.pool(m.spec.role)?.llm.deployment.gracefulShutdownTimeout ?? .seconds(20))
                }
            }
            logger.info("autoscaler: \(unit) drained, stopping it")
            for case let (child?, grace) in children { Task { await child.stop(grace: grace) } }
        }
    }

    /// One more replica of `role`'s pool, or in replica mode one more whole group.
    func startUnit(role: PoolRole) {
        var plan: [(PoolConfig, Int?)] = []
        if case .replica(let x, let y) = app.pdMode, let p = app.pool(.prefill), let d = app.pool(.decode) {
            let g = state.withLock { s in
                defer { s.nextGroup += 1 }
                return s.nextGroup
            }
            plan = Array(repeating: (p, g), count: x) + Array(repeating: (d, g), count: y)
        } else if let pool = app.pool(role) {
            plan = [(pool, nil)]
        }
        do {
            for (pool, group) in plan {
                var spec = try makeSpec(pool, cpus: nextCPUs())
                spec.group = group
                logger.info("autoscaler: \(role.rawValue) pool up, starting \(spec.name)\(group.map { " (group \($0))" } ?? "")")
                launch.yield(spec)
            }
        } catch {
            logger.error("autoscaler: could not start a \(role.rawValue) replica: \(error)")
            state.withLock { $0.autoscalers[role]?.replicaRemoved(nil) }
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
