// Everything a routing decision reads and updates, as one value: the pools' health and load,
// each endpoint's prefix index, the session table. Pure: the router holds it under a lock and
// tests drive it directly.

import BatonModel
import BatonOpenAI

public struct RoutingState: Sendable {
    public let config: RouterConfig
    public internal(set) var pool: EndpointPool
    public internal(set) var indexes: [PrefixIndex]
    public internal(set) var sessions: SessionTable
    /// Turns among equally good endpoints, one count per role (a split's prefill pick must not
    /// take the decodes' turn).
    private var rotation = (prefill: 0, decode: 0)
    /// Requests that wanted the split path while no prefill was up (the demand a prefill pool
    /// scaled to zero does not see otherwise).
    public private(set) var splitsWithoutPrefill = 0

    public init(config: RouterConfig) {
        self.config = config
        pool = EndpointPool(
            prefill: config.prefill.compactMap(Endpoint.parse), decode: config.decode.compactMap(Endpoint.parse),
            settings: config.health, maxInFlight: config.maxInFlightPerEndpoint)
        indexes = Array(repeating: PrefixIndex(capacity: config.prefixIndexBlocks), count: pool.members.count)
        sessions = SessionTable(capacity: config.maxSessions)
    }

    // MARK: Deciding

    /// Picks the decode, then local or split (docs/architecture.md, one request's path), and counts the
    /// request in flight on the endpoints it names. `heldBlocks`: the prompt's leading blocks
    /// the decode probably held before this request. `again`: the same request decided once
    /// more (after a wait, or after the fast lane's decode failed before its first byte): it is
    /// counted in `splitsWithoutPrefill` only the first time.
    public mutating func decide(_ r: RoutingRequest, again: Bool = false) -> (decision: Decision, heldBlocks: Int) {
        let decode: Int
        switch pick(.decode, r, excluding: []) {
        case .picked(let d): decode = d
        case .noneUp:
            return (.reject(.unavailable("No decode endpoint is healthy.", retryAfter: config.retryAfterSeconds), reason: .noDecodeHealthy), 0)
        case .allOverloaded:
            return (.reject(.overloaded("Every decode endpoint is at its limit of requests in flight.", retryAfter: config.retryAfterSeconds), reason: .overloaded), 0)
        }
        let held = indexes[decode].matchedBlocks(r.blockHashes)
        if let reason = localReason(decode, r, held: held) {
            if reason == .noPrefillPool, !again { splitsWithoutPrefill += 1 }
            return (local(decode, r, reason: reason, fallback: false), held)
        }
        if case .picked(let p) = pick(.prefill, r, excluding: [], group: pool.members[decode].group) {
            pool.requestStarted(p)
            pool.requestStarted(decode)
            record(r, prefill: p, decode: decode)
            return (.split(prefill: p, decode: decode), held)
        }
        if !again { splitsWithoutPrefill += 1 }
        return (fallback(decode, r, reason: .noPrefillHealthy), held)
    }

    /// Why `decode` takes `r` itself: the part of the prompt it lacks is under the split
    /// threshold, or there is no prefill pool (collocated, or scaled to 0: then the local path
    /// is the path, not a fallback, and the decode's queue does not bound it). nil: split.
    private func localReason(_ decode: Int, _ r: RoutingRequest, held: Int) -> DecisionReason? {
        if r.promptTokens - held * config.blockSize < config.splitThreshold {
            return r.promptTokens < config.splitThreshold ? .shortPrompt : .cachedPrefix
        }
        if !pool.members.contains(where: { $0.role == .prefill && $0.health != .removed }) { return .noPrefillPool }
        return nil
    }

    /// No prefill can serve: the local path on `decode` if the policy and its queue allow, else on
    /// the best other decode whose queue allows (a failed split that waited for room may find its
    /// decode gone or still full), else 503. The decode must not be counted in flight for this
    /// request (a failed split ends its count first).
    public mutating func fallback(_ decode: Int, _ r: RoutingRequest, reason: DecisionReason) -> Decision {
        if config.prefillFailure == .local {
            if hasFallbackRoom(decode) { return local(decode, r, reason: reason, fallback: true) }
            let full = Set(pool.indices(.decode).filter { !hasFallbackRoom($0) })
            if case .picked(let other) = pick(.decode, r, excluding: full) { return local(other, r, reason: reason, fallback: true) }
        }
        return .reject(.unavailable(
            reason == .prefillFailed ? "The prefill failed and no decode can take the prompt itself now." : "No prefill endpoint is healthy and no decode can take the prompt itself now.",
            retryAfter: config.retryAfterSeconds), reason: reason)
    }

    /// `i` is up and its waiting queue, with the router's local prefills there, is under the bound.
    private func hasFallbackRoom(_ i: Int) -> Bool {
        let m = pool.members[i]
        return pool.isUp(i) && (m.load?.waiting ?? 0) + m.fallbacksInFlight < config.localFallbackMaxWaiting
    }

    /// Another prefill for a split whose prefill failed: one not tried yet if any is up, else
    /// one tried before that is up again (a restarted engine, probed back); nil when none is up.
    /// In replica mode, only prefills of `decode`'s group.
    public mutating func nextPrefill(_ r: RoutingRequest, excluding tried: Set<Int>, decode: Int? = nil) -> Int? {
        guard let p = pickPreferringUntried(.prefill, r, tried: tried, group: decode.flatMap { pool.members[$0].group }) else { return nil }
        pool.requestStarted(p)
        indexes[p].insert(r.blockHashes)
        return p
    }

    /// Another decode for a request whose decode failed before its first byte (untried first,
    /// as for prefills).
    /// After a split, in replica mode, only decodes of the prefill's group (`group`).
    public mutating func nextDecode(_ r: RoutingRequest, excluding tried: Set<Int>, fallback: Bool = false, group: Int? = nil) -> Int? {
        guard let d = pickPreferringUntried(.decode, r, tried: tried, group: group) else { return nil }
        pool.requestStarted(d, fallback: fallback)
        record(r, prefill: nil, decode: d)
        return d
    }

    private mutating func local(_ decode: Int, _ r: RoutingRequest, reason: DecisionReason, fallback: Bool) -> Decision {
        pool.requestStarted(decode, fallback: fallback)
        record(r, prefill: nil, decode: decode)
        return .local(decode: decode, reason: reason, fallback: fallback)
    }

    private mutating func record(_ r: RoutingRequest, prefill: Int?, decode: Int) {
        indexes[decode].insert(r.blockHashes)
        if let prefill { indexes[prefill].insert(r.blockHashes) }
        if let s = r.session { sessions.record(s, endpoint: decode) }
    }

    // MARK: Scoring

    private mutating func pickPreferringUntried(_ role: EndpointRole, _ r: RoutingRequest, tried: Set<Int>, group: Int?) -> Int? {
        if case .picked(let i) = pick(role, r, excluding: tried, group: group) { return i }
        if case .picked(let i) = pick(role, r, excluding: [], group: group) { return i }
        return nil
    }

    enum Pick: Equatable { case picked(Int), noneUp, allOverloaded }

    /// The best endpoint of `role` by weighted prefix, load and session scores; of `group`'s
    /// members only when a group is given.
    mutating func pick(_ role: EndpointRole, _ r: RoutingRequest, excluding: Set<Int>, group: Int? = nil) -> Pick {
        // No method references here: `open.map(queue)` made a closure holding a copy of the
        // whole state, once per request (it showed in router profiles).
        var anyUp = false
        var open: [(i: Int, queue: Int)] = []
        for i in pool.indices(role) where pool.isUp(i) && !excluding.contains(i) && (group == nil || pool.members[i].group == group) {
            anyUp = true
            if !pool.isOverloaded(i) { open.append((i, queue(i))) }
        }
        guard anyUp else { return .noneUp }
        guard !open.isEmpty else { return .allOverloaded }
        let queues = open.map(\.queue)
        let range = (lo: queues.min()!, hi: queues.max()!)
        var scores: [Double] = []
        for c in open { scores.append(score(c.i, r, queue: c.queue, range: range)) }
        let best = scores.max()!
        let tied = open.indices.filter { scores[$0] >= best - 1e-9 }
        let turn: Int
        switch role {
        case .prefill: (turn, rotation.prefill) = (rotation.prefill &+ 1, rotation.prefill &+ 1)
        case .decode: (turn, rotation.decode) = (rotation.decode &+ 1, rotation.decode &+ 1)
        }
        return .picked(open[tied[Int(UInt(bitPattern: turn) % UInt(tied.count))]].i)
    }

    /// weights.prefix × (blocks held / blocks) + weights.load × load score + weights.session × (the
    /// session's endpoint, while under the session load bound).
    /// `queue` is the endpoint's, `range` the lowest and highest among the candidates.
    func score(_ i: Int, _ r: RoutingRequest, queue: Int, range: (lo: Int, hi: Int)) -> Double {
        let w = config.weights
        let prefix = r.blockHashes.isEmpty ? 0 : Double(indexes[i].matchedBlocks(r.blockHashes)) / Double(r.blockHashes.count)
        let q = range.hi == range.lo ? 1 : Double(range.hi - queue) / Double(range.hi - range.lo)
        let load = 0.75 * q + 0.25 * (1 - (pool.members[i].load?.kvUsage ?? 0))
        var session = 0.0
        if let s = r.session, sessions.endpoint(for: s) == i, pool.members[i].inFlight < config.sessionLoadBound { session = 1 }
        return w.prefix * prefix + w.load * load + w.session * session
    }

    /// Requests queued or running there: the router's own count, or the engine's if larger
    /// (other clients, or the router's count is behind).
    func queue(_ i: Int) -> Int {
        let load = pool.members[i].load
        return max(pool.members[i].inFlight, (load?.waiting ?? 0) + (load?.running ?? 0))
    }

    // MARK: Pool events

    public mutating func requestEnded(_ i: Int, outcome: EndpointPool.Outcome, fallback: Bool = false, now: ContinuousClock.Instant) -> [EndpointPool.Action] {
        let actions = pool.requestEnded(i, outcome: outcome, fallback: fallback, now: now)
        forgetEjected(actions)
        return actions
    }

    /// A local fallback on `i` sent its first byte: it no longer counts against the fallback bound.
    public mutating func fallbackPrefilled(_ i: Int) {
        pool.fallbackPrefilled(i)
    }

    public mutating func healthChecked(_ i: Int, ok: Bool, reason: String = "", now: ContinuousClock.Instant) -> [EndpointPool.Action] {
        let actions = pool.healthChecked(i, ok: ok, reason: reason, now: now)
        forgetEjected(actions)
        return actions
    }

    public mutating func scraped(_ i: Int, load: EndpointLoad?) { pool.scraped(i, load: load) }
    public mutating func tick(now: ContinuousClock.Instant) { pool.tick(now: now) }
    public mutating func drain(_ i: Int) { pool.drain(i) }
    public mutating func undrain(_ i: Int) { pool.undrain(i) }

    /// A replica added at run time (or back at the same URL: a restarted engine, its cache
    /// empty). Its index.
    @discardableResult
    public mutating func add(
        _ endpoint: Endpoint, role: EndpointRole, healthy: Bool = false, group: Int? = nil, maxInFlight: Int? = nil
    ) -> (index: Int, isNew: Bool) {
        let added = pool.add(endpoint, role: role, healthy: healthy, group: group, maxInFlight: maxInFlight)
        if added.isNew {
            indexes.append(PrefixIndex(capacity: config.prefixIndexBlocks))
        } else {
            indexes[added.index].removeAll()
        }
        return added
    }

    public mutating func remove(_ i: Int) {
        pool.remove(i)
        indexes[i].removeAll()
    }

    /// An ejected engine may have restarted with an empty cache: its index is dropped.
    private mutating func forgetEjected(_ actions: [EndpointPool.Action]) {
        for case .ejected(let i, _) in actions { indexes[i].removeAll() }
    }
}
