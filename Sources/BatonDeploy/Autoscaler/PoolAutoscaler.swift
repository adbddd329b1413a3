// One pool's autoscaler: a pure state machine with Ray Serve's semantics. Events (load samples,
// ticks, replicas added or drained) come in with the caller's clock; actions come out. No tasks,
// no sleeping: the supervisor feeds it and carries the actions out.

/// Scales one pool (or, in `pd_mode: replica`, one pool of xPyD groups, each group a "replica").
///
/// Every `tick`:
///
///     raw     = average over look_back_period_s of the pool's total metric ÷ target
///     desired = ceil(current + factor × (raw − current))     factor: upscaling_factor if raw ≥ current,
///                                                                    else downscaling_factor
///     desired = clamp(desired, min_replicas, max_replicas)
///
/// and `desired` is applied only once it has stayed above (or below) `current` continuously for
/// `upscale_delay_s` (or `downscale_delay_s`), as in Ray Serve; the latest value is applied. From
/// 0 replicas any demand asks for at least one. Scale-down drains the replicas with the fewest
/// requests in flight first, and asks for each to be stopped only after its `drained` event.
public struct PoolAutoscaler: Sendable {
    public let policy: AutoscalingConfig

    enum ReplicaState: Sendable, Equatable { case running, draining }

    /// Replicas by name; draining ones no longer count toward `current`.
    private(set) var replicas: [String: ReplicaState] = [:]
    /// Replicas asked for by `.start` and not yet reported by `replicaAdded`.
    public private(set) var pendingStarts = 0
    /// The pool's total metric, one value per `observe`, within the look-back window.
    private var samples: [(at: Duration, total: Double)] = []
    private var lastLoads: [String: ReplicaLoad] = [:]
    /// The direction `desired` has held since `since`.
    private var proposal: (up: Bool, since: Duration)?
    /// The last computed target, for status.
    public private(set) var desired: Int
    /// The last applied decisions, newest last (at most `decisionHistory`).
    public private(set) var decisions: [AutoscalerDecision] = []
    static let decisionHistory = 20

    public init(policy: AutoscalingConfig) {
        self.policy = policy
        self.desired = policy.startReplicas
    }

    /// An autoscaler for an autoscaled pool; nil for fixed replicas (`num_replicas`,
    /// `data_parallel_size`), which the supervisor only keeps alive.
    public init?(scaling: ReplicaScaling) {
        guard case .autoscaled(let policy) = scaling else { return nil }
        self.init(policy: policy)
    }

    /// Replicas serving or starting (draining ones excluded).
    public var current: Int { replicas.values.filter { $0 == .running }.count + pendingStarts }

    /// Names of the replicas being drained.
    public var draining: [String] { replicas.filter { $0.value == .draining }.map(\.key).sorted() }

    /// The first action: start `initial_replicas` (default `min_replicas`).
    public mutating func start() -> [AutoscalerAction] {
        let n = policy.startReplicas - current
        guard n > 0 else { return [] }
        pendingStarts += n
        return [.start(count: n)]
    }

    /// A replica asked for by `.start` is healthy and in the router.
    public mutating func replicaAdded(_ name: String) {
        guard replicas[name] == nil else { return }
        replicas[name] = .running
        pendingStarts = max(0, pendingStarts - 1)
    }

    /// A replica is gone for good (not one the supervisor restarts), or a start failed (nil).
    public mutating func replicaRemoved(_ name: String?) {
        if let name, replicas.removeValue(forKey: name) != nil {
            lastLoads[name] = nil
        } else if name == nil {
            pendingStarts = max(0, pendingStarts - 1)
        }
    }

    /// A load sample from the router: each replica's load, plus `pending`, demand with no
    /// replica to count it (e.g. for a prefill pool at 0 replicas, the requests that took the
    /// local path but would have been split), in the units of `target_metric`.
    public mutating func observe(at now: Duration, loads: [String: ReplicaLoad], pending: Double = 0) {
        lastLoads = loads
        var total = pending
        for (name, load) in loads where replicas[name] == .running {
            total += load.value(of: policy.targetMetric)
        }
        samples.append((now, total))
        trim(now)
    }

    /// Decides; returns the actions to carry out now (often none).
    public mutating func tick(at now: Duration) -> [AutoscalerAction] {
        trim(now)
        guard !samples.isEmpty else { proposal = nil; return [] }
        let average = samples.map(\.total).reduce(0, +) / Double(samples.count)
        let current = self.current
        desired = Self.desiredReplicas(current: current, average: average, policy: policy)
        guard desired != current else { proposal = nil; return [] }
        let up = desired > current
        if proposal?.up != up { proposal = (up, now) }
        let delay = up ? policy.upscaleDelay : policy.downscaleDelay
        guard let since = proposal?.since, now - since >= delay else { return [] }
        proposal = nil
        return up ? scaleUp(at: now, from: current, average: average) : scaleDown(at: now, from: current, average: average)
    }

    /// A draining replica has no request left: stop it.
    public mutating func drained(_ name: String) -> [AutoscalerAction] {
        guard replicas[name] == .draining else { return [] }
        replicas[name] = nil
        lastLoads[name] = nil
        return [.stop(replica: name)]
    }

    /// Ray Serve's formula: the raw count (average ÷ target), smoothed toward it by the factor of
    /// its direction, rounded up, clamped. From 0 replicas, any demand asks for at least one.
    static func desiredReplicas(current: Int, average: Double, policy: AutoscalingConfig) -> Int {
        let raw = average / policy.target
        let smoothed: Double
        if current == 0 {
            smoothed = raw > 0 ? max(1, raw * policy.upscalingFactor) : 0
        } else {
            let factor = raw >= Double(current) ? policy.upscalingFactor : policy.downscalingFactor
            smoothed = Double(current) + factor * (raw - Double(current))
        }
        // A hair below the next integer stays there: 2.0000000001 from float error is 2.
        let rounded = Int((smoothed - 1e-9).rounded(.up))
        return min(policy.maxReplicas, max(policy.minReplicas, rounded))
    }

    private mutating func scaleUp(at now: Duration, from current: Int, average: Double) -> [AutoscalerAction] {
        let n = desired - current
        pendingStarts += n
        record(AutoscalerDecision(at: now, from: current, to: desired, averageMetric: average))
        return [.start(count: n)]
    }

    /// Drains the running replicas with the fewest requests in flight (ties: the name that sorts
    /// last, usually the newest). Starts not yet reported cannot be drained.
    private mutating func scaleDown(at now: Duration, from current: Int, average: Double) -> [AutoscalerAction] {
        let running = replicas.filter { $0.value == .running }.map(\.key)
        let order = running.sorted {
            let (a, b) = (lastLoads[$0]?.inFlight ?? 0, lastLoads[$1]?.inFlight ?? 0)
            return a != b ? a < b : $0 > $1
        }
        let victims = order.prefix(min(current - desired, running.count))
        guard !victims.isEmpty else { return [] }
        for name in victims { replicas[name] = .draining }
        record(AutoscalerDecision(at: now, from: current, to: current - victims.count, averageMetric: average))
        return victims.map { .drain(replica: $0) }
    }

    private mutating func record(_ decision: AutoscalerDecision) {
        decisions.append(decision)
        if decisions.count > Self.decisionHistory { decisions.removeFirst(decisions.count - Self.decisionHistory) }
    }

    /// Drops samples older than the look-back window.
    private mutating func trim(_ now: Duration) {
        let oldest = now - policy.lookBackPeriod
        if let keep = samples.firstIndex(where: { $0.at >= oldest }) {
            samples.removeFirst(keep)
        } else {
            samples.removeAll()
        }
    }
}
