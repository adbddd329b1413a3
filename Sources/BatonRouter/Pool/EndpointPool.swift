// The endpoints of both pools and their health, as a pure state machine (async-http-client's
// pool style): events in, actions out; the router's I/O carries the actions out, and tests
// drive it without sockets or clocks.
//
//              request/health failure                 backoff over
//   healthy ─────────────────────────▶ ejected ───────────────────────▶ probing
//      ▲                                  ▲                                 │
//      │         probe ok                 │ probe failed (backoff × 2)      │
//      └──────────────────────────────────┴─────────────────────────────────┘
//
//   draining: takes no new requests whatever its health (set by the app before a stop).
//   removed: gone (its replica stopped); not checked, not listed. Adding its URL again brings
//   it back probing, at the same index: indices are never reused for another endpoint.

public struct EndpointPool: Sendable {
    public enum Health: Sendable, Equatable {
        case healthy
        case ejected(until: ContinuousClock.Instant)
        /// Backoff over: the next health check decides; no traffic until then.
        case probing
        case draining
        case removed

        public var name: String {
            switch self {
            case .healthy: "healthy"
            case .ejected: "ejected"
            case .probing: "probing"
            case .draining: "draining"
            case .removed: "removed"
            }
        }
    }

    public struct Member: Sendable {
        public let endpoint: Endpoint
        public let role: EndpointRole
        /// The xPyD group (AIBrix's replica mode) it belongs to: a request's prefill and decode
        /// come from one group. Nil: pooled, any prefill with any decode.
        public internal(set) var group: Int? = nil
        /// Its own limit of requests in flight (a pool's `max_ongoing_requests`); nil: the pool's.
        public internal(set) var maxInFlight: Int? = nil
        public internal(set) var health: Health = .healthy
        /// Requests the router has sent there that have not ended.
        public internal(set) var inFlight = 0
        /// Of those, local-path requests that came as a prefill fallback and have no first byte
        /// yet: the local prefills the fallback bound counts (once streaming, a fallback is a
        /// decode like any other).
        public internal(set) var fallbacksInFlight = 0
        public internal(set) var load: EndpointLoad?
        public internal(set) var backoff: Duration
        public internal(set) var lastError: String?
    }

    public enum Outcome: Sendable, Equatable {
        case success
        /// Unreachable, 5xx, timeout, or a stream cut: counts against the endpoint.
        case failure(String)
        /// Says nothing about the endpoint (4xx, the client went away).
        case neutral
    }

    public enum Action: Sendable, Equatable {
        case ejected(Int, reason: String)
        case restored(Int)
    }

    public private(set) var members: [Member]
    public let settings: HealthSettings
    public let maxInFlight: Int

    public init(prefill: [Endpoint], decode: [Endpoint], settings: HealthSettings, maxInFlight: Int) {
        self.settings = settings
        self.maxInFlight = maxInFlight
        members = prefill.map { Member(endpoint: $0, role: .prefill, backoff: settings.baseBackoff) }
            + decode.map { Member(endpoint: $0, role: .decode, backoff: settings.baseBackoff) }
    }

    public func indices(_ role: EndpointRole) -> [Int] { members.indices.filter { members[$0].role == role } }

    /// Healthy, not draining: may take requests (if not overloaded).
    public func isUp(_ i: Int) -> Bool { members[i].health == .healthy }
    public func isOverloaded(_ i: Int) -> Bool { members[i].inFlight >= (members[i].maxInFlight ?? maxInFlight) }

    // MARK: Events

    public mutating func requestStarted(_ i: Int, fallback: Bool = false) {
        members[i].inFlight += 1
        if fallback { members[i].fallbacksInFlight += 1 }
    }

    /// A local fallback's first byte: its prefill is done, so it leaves `fallbacksInFlight` (it
    /// ends later with `fallback: false`).
    public mutating func fallbackPrefilled(_ i: Int) {
        precondition(members[i].fallbacksInFlight > 0, "fallbackPrefilled without a fallback in flight")
        members[i].fallbacksInFlight -= 1
    }

    public mutating func requestEnded(_ i: Int, outcome: Outcome, fallback: Bool = false, now: ContinuousClock.Instant) -> [Action] {
        precondition(members[i].inFlight > 0, "requestEnded without requestStarted")
        members[i].inFlight -= 1
        if fallback { members[i].fallbacksInFlight -= 1 }
        switch outcome {
        case .success:
            if members[i].health == .healthy { members[i].backoff = settings.baseBackoff }
            return []
        case .neutral: return []
        case .failure(let reason): return fail(i, reason: reason, now: now)
        }
    }

    public mutating func healthChecked(_ i: Int, ok: Bool, reason: String = "", now: ContinuousClock.Instant) -> [Action] {
        switch members[i].health {
        case .healthy: return ok ? [] : fail(i, reason: reason, now: now)
        case .probing:
            if ok {
                members[i].health = .healthy
                members[i].lastError = nil
                return [.restored(i)]
            }
            return fail(i, reason: reason, now: now)
        case .ejected, .draining, .removed: return []
        }
    }

    public mutating func scraped(_ i: Int, load: EndpointLoad?) { members[i].load = load }

    public mutating func drain(_ i: Int) { members[i].health = .draining }

    /// An endpoint added at run time (a replica the app started), or one removed or draining
    /// at the same URL brought back. It is probed before it takes traffic, unless the caller
    /// has just seen it `healthy`. Its index, and whether it is a new member.
    public mutating func add(
        _ endpoint: Endpoint, role: EndpointRole, healthy: Bool = false, group: Int? = nil, maxInFlight: Int? = nil
    ) -> (index: Int, isNew: Bool) {
        let health: Health = healthy ? .healthy : .probing
        if let i = members.firstIndex(where: { $0.endpoint == endpoint && $0.role == role }) {
            members[i].group = group
            members[i].maxInFlight = maxInFlight
            switch members[i].health {
            case .removed, .draining, .ejected, .probing:
                // Back (or seen healthy by the caller, which outranks an ejection's backoff).
                guard healthy || members[i].health == .removed || members[i].health == .draining else { break }
                members[i].health = health
                members[i].backoff = settings.baseBackoff
                members[i].lastError = nil
                members[i].load = nil
            case .healthy:
                break
            }
            return (i, false)
        }
        members.append(Member(
            endpoint: endpoint, role: role, group: group, maxInFlight: maxInFlight, health: health, backoff: settings.baseBackoff))
        return (members.count - 1, true)
    }

    /// The endpoint's replica is gone: no traffic, no checks, not listed. Requests in flight
    /// there end as they will.
    public mutating func remove(_ i: Int) {
        members[i].health = .removed
        members[i].load = nil
    }

    /// A drained endpoint back in service: it is probed before it takes traffic.
    public mutating func undrain(_ i: Int) {
        if members[i].health == .draining { members[i].health = .probing }
    }

    /// Moves ejected endpoints whose backoff is over to probing: the member's own health loop
    /// (HealthService) checks it on its next pass, up to `checkInterval` later: the half-open probe.
    public mutating func tick(now: ContinuousClock.Instant) {
        for i in members.indices {
            if case .ejected(let until) = members[i].health, until <= now { members[i].health = .probing }
        }
    }

    private mutating func fail(_ i: Int, reason: String, now: ContinuousClock.Instant) -> [Action] {
        members[i].lastError = reason
        switch members[i].health {
        case .healthy, .probing:
            members[i].health = .ejected(until: now + members[i].backoff)
            members[i].backoff = min(members[i].backoff * 2, settings.maxBackoff)
            return [.ejected(i, reason: reason)]
        case .ejected, .draining, .removed:
            return []
        }
    }
}
