// The decider and scorers over a hand-built state: which decode, local or split and why,
// prefix affinity, sessions, fallbacks, 503 and 429.

import BatonModel
import BatonRouter
import Testing

@Suite struct RoutingStateTests {
    static func config(prefill: Int = 2, decode: Int = 2, threshold: Int = 64) -> RouterConfig {
        var c = RouterConfig(
            prefill: (0..<prefill).map { "http://127.0.0.1:\(1000 + $0)" }, decode: (0..<decode).map { "http://127.0.0.1:\(2000 + $0)" })
        c.splitThreshold = threshold
        c.blockSize = 16
        c.maxInFlightPerEndpoint = 4
        c.localFallbackMaxWaiting = 2
        c.sessionLoadBound = 3
        return c
    }

    /// `n` tokens starting at `seed` (distinct seeds share no block).
    static func request(_ n: Int, seed: Int32 = 0, session: String? = nil) -> RoutingRequest {
        RoutingRequest(tokens: (0..<Int32(n)).map { seed &* 7919 &+ $0 }, blockSize: 16, salt: nil, session: session)
    }

    @Test func hashesAreTheEnginesChain() {
        let r = Self.request(40)
        #expect(r.promptTokens == 40)
        #expect(r.blockHashes.count == 2, "only full blocks are hashed")
        let tokens: [Int32] = (0..<40).map { $0 }
        #expect(r.blockHashes[0] == BlockHash(parent: nil, tokens: tokens[0..<16]))
        #expect(r.blockHashes[1] == BlockHash(parent: r.blockHashes[0], tokens: tokens[16..<32]))
        let salted = RoutingRequest(tokens: tokens, blockSize: 16, salt: "tenant-a", session: nil)
        #expect(salted.blockHashes[0] != r.blockHashes[0] && salted.blockHashes.count == 2)
    }

    @Test func inReplicaModeAPrefillComesFromItsDecodesGroup() {
        // Two 1P1D groups added at run time, as `baton serve` does in pd_mode: replica.
        var s = RoutingState(config: Self.config(prefill: 0, decode: 0))
        let p0 = s.add(Endpoint.parse("http://127.0.0.1:1000")!, role: .prefill, healthy: true, group: 0).index
        let d0 = s.add(Endpoint.parse("http://127.0.0.1:2000")!, role: .decode, healthy: true, group: 0).index
        let p1 = s.add(Endpoint.parse("http://127.0.0.1:1001")!, role: .prefill, healthy: true, group: 1).index
        let d1 = s.add(Endpoint.parse("http://127.0.0.1:2001")!, role: .decode, healthy: true, group: 1).index
        var pairs: [[Int]] = []
        for seed in 0..<6 {  // the decodes keep their requests, so load spreads them
            let (decision, _) = s.decide(Self.request(200, seed: Int32(seed)))
            guard case .split(let p, let d) = decision else { Issue.record("\(decision)"); return }
            pairs.append([p, d])
            _ = s.requestEnded(p, outcome: .success, now: .now)
        }
        #expect(Set(pairs) == [[p0, d0], [p1, d1]], "both groups used, never mixed: \(pairs)")
        for (_, d) in pairs.map({ ($0[0], $0[1]) }) { _ = s.requestEnded(d, outcome: .success, now: .now) }
        // A failed prefill is retried only inside the group; the other group's prefill is not a candidate.
        #expect(s.nextPrefill(Self.request(200, seed: 9), excluding: [p0], decode: d0) == p0, "only p0 is in d0's group")
        s.drain(p0)
        #expect(s.nextPrefill(Self.request(200, seed: 9), excluding: [p0], decode: d0) == nil)
        #expect(s.nextDecode(Self.request(200, seed: 9), excluding: [d1], group: 1) == d1)
        #expect(s.nextDecode(Self.request(200, seed: 9), excluding: [], group: 0) == d0)
        // d0's group has no prefill up: its long prompts fall back to the local path, not to p1.
        let (fallback, _) = s.decide(Self.request(200, seed: 20))
        if case .split(let p, let d) = fallback { #expect(p == p1 && d == d1) }
    }

    @Test func shortPromptsGoLocalLongOnesSplit() {
        var s = RoutingState(config: Self.config())
        let (short, _) = s.decide(Self.request(63))
        guard case .local(let d, .shortPrompt, false) = short else { Issue.record("\(short)"); return }
        #expect(s.pool.indices(.decode).contains(d))
        let (long, held) = s.decide(Self.request(64, seed: 1))
        guard case .split(let p, let d2) = long else { Issue.record("\(long)"); return }
        #expect(s.pool.members[p].role == .prefill && s.pool.members[d2].role == .decode)
        #expect(held == 0)
        #expect(s.pool.members[p].inFlight == 1 && s.pool.members[d2].inFlight == 1)
    }

    @Test func aCachedPrefixMakesALongPromptLocalOnTheDecodeThatHoldsIt() {
        var s = RoutingState(config: Self.config())
        let first = s.decide(Self.request(320, seed: 5)).decision
        guard case .split(_, let d) = first else { Issue.record("\(first)"); return }
        // Same 320 tokens plus 40 more: 20 blocks held there, 40 tokens uncached < 64.
        let again = RoutingRequest(
            tokens: (0..<Int32(360)).map { 5 &* 7919 &+ $0 }, blockSize: 16, salt: nil, session: nil)
        let (second, held) = s.decide(again)
        #expect(second == .local(decode: d, reason: .cachedPrefix, fallback: false))
        #expect(held == 20)
    }

    @Test func prefixAffinityBeatsAnIdleEndpoint() {
        var c = Self.config(prefill: 1, decode: 4, threshold: 100_000)
        c.maxInFlightPerEndpoint = 100
        var s = RoutingState(config: c)
        var home: [Int32: Int] = [:]
        var sameHome = 0, total = 0
        for round in 0..<5 {
            for group: Int32 in 0..<8 {
                var tokens: [Int32] = (0..<Int32(600)).map { group &* 100_003 &+ $0 }
                tokens += [Int32(round), 9, 9]
                let r = RoutingRequest(tokens: tokens, blockSize: 16, salt: nil, session: nil)
                guard case .local(let d, _, _) = s.decide(r).decision else { Issue.record("not local"); return }
                if let h = home[group] { total += 1; sameHome += h == d ? 1 : 0 } else { home[group] = d }
            }
        }
        #expect(sameHome == total, "\(sameHome)/\(total) requests after a group's first went to its decode")
        #expect(Set(home.values).count == 4, "the 8 groups' first requests spread over the 4 decodes: \(home)")
    }

    @Test func sessionsStickWhileUnderTheLoadBound() {
        var s = RoutingState(config: Self.config(threshold: 100_000))
        guard case .local(let d, _, _) = s.decide(Self.request(10, seed: 1, session: "alice")).decision else { return }
        for seed: Int32 in 2..<4 {
            #expect(s.decide(Self.request(10, seed: seed, session: "alice")).decision == .local(decode: d, reason: .shortPrompt, fallback: false))
        }
        // Three in flight there = the session load bound: the next goes elsewhere and moves the session.
        #expect(s.pool.members[d].inFlight == 3)
        guard case .local(let other, _, _) = s.decide(Self.request(10, seed: 9, session: "alice")).decision else { return }
        #expect(other != d)
        #expect(s.sessions.endpoint(for: "alice") == other)
    }

    /// One prefill, drained (configured but not up); the decode is member 1.
    static func prefillDown(_ configure: (inout RouterConfig) -> Void = { _ in }) -> RoutingState {
        var c = config(prefill: 1, decode: 1)
        configure(&c)
        var s = RoutingState(config: c)
        s.drain(0)
        return s
    }

    @Test func noPrefillFallsBackLocalWhileTheDecodeQueueAllows() {
        var s = Self.prefillDown()
        #expect(s.decide(Self.request(200, seed: 1)).decision == .local(decode: 1, reason: .noPrefillHealthy, fallback: true))
        #expect(s.decide(Self.request(200, seed: 2)).decision == .local(decode: 1, reason: .noPrefillHealthy, fallback: true))
        // Two local fallbacks in flight = localFallbackMaxWaiting: the third is a 503.
        guard case .reject(let error, .noPrefillHealthy) = s.decide(Self.request(200, seed: 3)).decision else { Issue.record("not rejected"); return }
        #expect(error.status == 503 && error.retryAfter == 1)
        _ = s.requestEnded(1, outcome: .success, fallback: true, now: .now)
        #expect(s.decide(Self.request(200, seed: 4)).decision == .local(decode: 1, reason: .noPrefillHealthy, fallback: true))
        // The decode's own waiting queue counts too.
        var t = Self.prefillDown()
        t.scraped(1, load: EndpointLoad(waiting: 2, running: 0, kvUsage: 0))
        guard case .reject = t.decide(Self.request(200)).decision else { Issue.record("queue ignored"); return }
        #expect(s.splitsWithoutPrefill == 4)
        _ = s.decide(Self.request(200, seed: 3), again: true)  // a request decided again after a wait
        #expect(s.splitsWithoutPrefill == 4)
    }

    @Test func aFallbackGoesToAnotherDecodeWhenItsOwnIsGoneOrFull() {
        // A failed split's fallback may come after a wait for room, by which time its decode can
        // have died or still be full; the prompt then goes to another decode that has room.
        var c = Self.config(prefill: 1, decode: 2)
        c.localFallbackMaxWaiting = 1
        var s = RoutingState(config: c)
        guard case .split(0, let d) = s.decide(Self.request(200, seed: 1)).decision else { Issue.record("no split"); return }
        let other = d == 1 ? 2 : 1
        _ = s.requestEnded(d, outcome: .neutral, now: .now)
        s.drain(d)
        #expect(s.fallback(d, Self.request(200, seed: 1), reason: .prefillFailed) == .local(decode: other, reason: .prefillFailed, fallback: true))
        // Both decodes are up again; the other is full (its fallback is prefilling), the first is not.
        var t = RoutingState(config: c)
        t.scraped(other, load: EndpointLoad(waiting: 1, running: 0, kvUsage: 0))
        #expect(t.fallback(other, Self.request(200, seed: 2), reason: .prefillFailed) == .local(decode: d, reason: .prefillFailed, fallback: true))
        // Neither has room: 503.
        #expect(t.fallback(other, Self.request(200, seed: 3), reason: .prefillFailed).rejected)
        // The local policy only.
        var f = c
        f.prefillFailure = .fail
        var u = RoutingState(config: f)
        #expect(u.fallback(d, Self.request(200, seed: 4), reason: .prefillFailed).rejected)
    }

    @Test func aFallbackThatIsStreamingNoLongerCountsAgainstTheBound() {
        // The bound limits local prefills; a fallback past its first byte is a decode like any other.
        var s = Self.prefillDown()
        for seed in 1...2 {
            #expect(s.decide(Self.request(200, seed: Int32(seed))).decision == .local(decode: 1, reason: .noPrefillHealthy, fallback: true))
        }
        guard case .reject = s.decide(Self.request(200, seed: 3)).decision else { Issue.record("bound not reached"); return }
        s.fallbackPrefilled(1)
        #expect(s.pool.members[1].fallbacksInFlight == 1 && s.pool.members[1].inFlight == 2)
        #expect(s.decide(Self.request(200, seed: 4)).decision == .local(decode: 1, reason: .noPrefillHealthy, fallback: true))
        guard case .reject = s.decide(Self.request(200, seed: 5)).decision else { Issue.record("bound not held"); return }
        // The streaming one ends as a plain request: the count of fallbacks is untouched.
        _ = s.requestEnded(1, outcome: .success, now: .now)
        #expect(s.pool.members[1].fallbacksInFlight == 2 && s.pool.members[1].inFlight == 2)
    }

    @Test func withNoPrefillPoolEveryRequestIsLocalWithoutTheFallbackBound() {
        // A collocated app, or a prefill pool scaled to 0 (its replicas removed): the local path
        // is the path, not a fallback, so the decode's queue does not turn requests away.
        var s = RoutingState(config: Self.config(prefill: 0, decode: 1))
        s.scraped(0, load: EndpointLoad(waiting: 50, running: 0, kvUsage: 0))
        for seed in 1...4 {  // up to the endpoint's in-flight limit (4 here)
            #expect(s.decide(Self.request(200, seed: Int32(seed))).decision == .local(decode: 0, reason: .noPrefillPool, fallback: false))
        }
        #expect(s.splitsWithoutPrefill == 4, "the demand a prefill pool at 0 scales up on")
        var t = Self.prefillDown()
        t.remove(0)
        #expect(t.decide(Self.request(200)).decision == .local(decode: 1, reason: .noPrefillPool, fallback: false))
    }

    @Test func prefillFailurePolicyFailIsA503() {
        var s = Self.prefillDown { $0.prefillFailure = .fail }
        guard case .reject(let e, .noPrefillHealthy) = s.decide(Self.request(200)).decision else { Issue.record("not rejected"); return }
        #expect(e.status == 503)
        #expect(s.pool.members[1].inFlight == 0)
    }

    @Test func retriesSkipWhatWasTried() {
        var s = RoutingState(config: Self.config(prefill: 2, decode: 2))
        let r = Self.request(200)
        guard case .split(let p, let d) = s.decide(r).decision else { return }
        let p2 = s.nextPrefill(r, excluding: [p])
        #expect(p2 != nil && p2 != p && s.pool.members[p2!].role == .prefill)
        // Every prefill tried: one that is up may be tried again; none up, none.
        #expect(s.nextPrefill(r, excluding: [0, 1]) != nil)
        _ = s.requestEnded(0, outcome: .failure("reset"), now: .now)
        _ = s.requestEnded(1, outcome: .failure("reset"), now: .now)
        #expect(s.nextPrefill(r, excluding: [0, 1]) == nil)
        let d2 = s.nextDecode(r, excluding: [d])
        #expect(d2 != nil && d2 != d && s.pool.members[d2!].role == .decode)
    }

    @Test func noHealthyDecodeIs503AndAllOverloadedIs429() {
        var s = RoutingState(config: Self.config(decode: 1))
        for _ in 0..<4 { _ = s.decide(Self.request(10)) }
        guard case .reject(let busy, .overloaded) = s.decide(Self.request(10)).decision else { Issue.record("not 429"); return }
        #expect(busy.status == 429 && busy.retryAfter != nil)
        _ = s.requestEnded(2, outcome: .failure("reset"), now: .now)
        guard case .reject(let down, .noDecodeHealthy) = s.decide(Self.request(10)).decision else { Issue.record("not 503"); return }
        #expect(down.status == 503)
    }

    @Test func anEjectedEndpointForgetsItsPrefixes() {
        var s = RoutingState(config: Self.config(decode: 1, threshold: 100_000))
        _ = s.decide(Self.request(64))
        #expect(s.indexes[2].count == 4)
        _ = s.requestEnded(2, outcome: .failure("reset"), now: .now)
        #expect(s.indexes[2].count == 0)
    }

    @Test func thePrefixIndexIsBounded() {
        var index = PrefixIndex(capacity: 8)
        let a = Self.request(16 * 6, seed: 1).blockHashes
        let b = Self.request(16 * 6, seed: 2).blockHashes
        index.insert(a)
        #expect(index.matchedBlocks(a) == 6)
        #expect(index.matchedBlocks(Self.request(16 * 6, seed: 3).blockHashes) == 0)
        index.insert(b)
        #expect(index.count <= 10)
        #expect(index.matchedBlocks(b) == 6, "the newest survive")
        #expect(index.matchedBlocks(a) < 6)
    }
}

extension RoutingStateTests {
    @Test func evictionCutsChainsFromTheirTails() {
        var index = PrefixIndex(capacity: 8)
        let a = Self.request(16 * 6, seed: 1).blockHashes
        let b = Self.request(16 * 6, seed: 2).blockHashes
        index.insert(a)
        index.insert(b)
        #expect(index.matchedBlocks(b) == 6)
        #expect(index.matchedBlocks(a) == 2, "a keeps its first two blocks")
    }
}

extension Decision {
    var rejected: Bool { if case .reject = self { true } else { false } }
}


extension RoutingStateTests {
    /// Equally good decodes take turns, one turn per request: a split's prefill pick does not
    /// take the decodes' turn (it did, so with one prefill every split of distinct prompts
    /// landed on the same one of two tied decodes). The fast lane no longer decides a request
    /// it hands over beforehand (`decideLocal`, which took a turn of its own, is gone).
    @Test func splitsTakeTurnsAmongTiedDecodes() {
        var s = RoutingState(config: Self.config(prefill: 1, decode: 2))
        var decodes: [Int] = []
        for seed in 0..<4 {
            guard case .split(let p, let d) = s.decide(Self.request(200, seed: Int32(seed))).decision else {
                Issue.record("not a split")
                return
            }
            decodes.append(d)
            _ = s.requestEnded(p, outcome: .success, now: .now)
            _ = s.requestEnded(d, outcome: .success, now: .now)
        }
        #expect(decodes == [decodes[0], decodes[1], decodes[0], decodes[1]] && decodes[0] != decodes[1], "\(decodes)")
    }
}
