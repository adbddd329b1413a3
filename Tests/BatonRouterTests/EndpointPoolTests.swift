// The pool's health state machine, driven by hand: no sockets, no clock.

import BatonRouter
import Testing

@Suite struct EndpointPoolTests {
    let t0 = ContinuousClock.now
    var settings: HealthSettings {
        var s = HealthSettings()
        s.baseBackoff = .seconds(1)
        s.maxBackoff = .seconds(4)
        return s
    }

    func pool() -> EndpointPool {
        EndpointPool(
            prefill: [Endpoint.parse("http://127.0.0.1:1001")!],
            decode: [Endpoint.parse("http://127.0.0.1:2001")!, Endpoint.parse("http://127.0.0.1:2002/")!],
            settings: settings, maxInFlight: 2)
    }

    @Test func endpointsParseOnlyHTTPHostPort() {
        #expect(Endpoint.parse("http://127.0.0.1:2002/")?.url == "http://127.0.0.1:2002")
        #expect(Endpoint.parse("http://engine-3:8000")?.port == 8000)
        for bad in ["127.0.0.1:80", "https://a:1", "http://a", "http://a:0", "http://a:70000", "http://:80", "http://a/b:80"] {
            #expect(Endpoint.parse(bad) == nil, "\(bad)")
        }
    }

    @Test func endpointsAddedAtRunTimeAreProbedFirstAndRemovedOnesComeBackAtTheirIndex() {
        var p = pool()
        let e = Endpoint.parse("http://127.0.0.1:2003")!
        let added = p.add(e, role: .decode)
        #expect(added.index == 3 && added.isNew)
        #expect(p.members[3].health == .probing && !p.isUp(3), "no traffic before its first health check")
        #expect(p.healthChecked(3, ok: true, now: t0) == [.restored(3)])
        #expect(p.isUp(3) && p.indices(.decode) == [1, 2, 3])
        let again = p.add(e, role: .decode)
        #expect(again.index == 3 && !again.isNew, "adding a member twice changes nothing")
        #expect(p.isUp(3))
        p.requestStarted(3)
        p.remove(3)
        #expect(p.members[3].health == .removed && !p.isUp(3))
        #expect(p.healthChecked(3, ok: true, now: t0).isEmpty, "a removed endpoint is not brought back by a check")
        p.tick(now: t0 + .seconds(100))
        #expect(p.members[3].health == .removed)
        #expect(p.requestEnded(3, outcome: .failure("gone"), now: t0).isEmpty, "a request that ends after the removal ejects nothing")
        // The replica restarted at the same URL: the same member, probed again, fresh backoff.
        let back = p.add(e, role: .decode)
        #expect(back.index == 3 && !back.isNew)
        #expect(p.members[3].health == .probing && p.members[3].lastError == nil && p.members[3].inFlight == 0)
        #expect(p.members.count == 4)
        // Seen healthy by the caller outranks an ejection's backoff.
        p.requestStarted(3)
        _ = p.requestEnded(3, outcome: .failure("refused"), now: t0)
        #expect(!p.isUp(3))
        _ = p.add(e, role: .decode, healthy: true)
        #expect(p.isUp(3) && p.members[3].lastError == nil)
        // A pool's max_ongoing_requests is the replica's own limit.
        let limited = p.add(Endpoint.parse("http://127.0.0.1:2005")!, role: .decode, healthy: true, maxInFlight: 1)
        #expect(!p.isOverloaded(limited.index))
        p.requestStarted(limited.index)
        #expect(p.isOverloaded(limited.index), "1 in flight reaches its own limit of 1 (the pool's is 2)")
        // A replica the caller has just seen answer /health takes traffic at once.
        let seen = p.add(Endpoint.parse("http://127.0.0.1:2004")!, role: .prefill, healthy: true)
        #expect(seen.isNew && p.isUp(seen.index) && p.indices(.prefill) == [0, 5])
    }

    @Test func failureEjectsThenProbeRestores() {
        var p = pool()
        #expect(p.indices(.decode) == [1, 2])
        p.requestStarted(1)
        #expect(p.requestEnded(1, outcome: .failure("refused"), now: t0) == [.ejected(1, reason: "refused")])
        #expect(p.members[1].health == .ejected(until: t0 + .seconds(1)))
        #expect(!p.isUp(1))
        #expect(p.members[1].lastError == "refused")
        // Health checks of an ejected endpoint are not made; if one lands, it changes nothing.
        #expect(p.healthChecked(1, ok: true, now: t0 + .milliseconds(500)).isEmpty)
        p.tick(now: t0 + .milliseconds(999))
        #expect(p.members[1].health == .ejected(until: t0 + .seconds(1)))
        p.tick(now: t0 + .seconds(1))
        #expect(p.members[1].health == .probing)
        #expect(!p.isUp(1), "a probing endpoint takes no traffic")
        #expect(p.healthChecked(1, ok: true, now: t0 + .seconds(1)) == [.restored(1)])
        #expect(p.isUp(1))
    }

    @Test func failedProbesDoubleTheBackoffUpToTheMaximum() {
        var p = pool()
        var now = t0
        _ = p.healthChecked(2, ok: false, reason: "503", now: now)
        var waits: [Duration] = []
        for _ in 0..<4 {
            guard case .ejected(let until) = p.members[2].health else { Issue.record("not ejected"); return }
            waits.append(until - now)
            now = until
            p.tick(now: now)
            #expect(p.members[2].health == .probing)
            #expect(p.healthChecked(2, ok: false, reason: "503", now: now) == [.ejected(2, reason: "503")])
        }
        #expect(waits == [.seconds(1), .seconds(2), .seconds(4), .seconds(4)])
        // Restored, then a request that succeeds: the next ejection starts from the base again.
        guard case .ejected(let until) = p.members[2].health else { return }
        p.tick(now: until)
        _ = p.healthChecked(2, ok: true, now: until)
        p.requestStarted(2)
        _ = p.requestEnded(2, outcome: .success, now: until)
        _ = p.requestEnded2(2, now: until)
        #expect(p.members[2].health == .ejected(until: until + .seconds(1)))
    }

    @Test func neutralOutcomesAndLoadLeaveHealthAlone() {
        var p = pool()
        p.requestStarted(0)
        p.requestStarted(0)
        #expect(p.isOverloaded(0))
        #expect(p.requestEnded(0, outcome: .neutral, now: t0).isEmpty)
        #expect(p.requestEnded(0, outcome: .success, now: t0).isEmpty)
        #expect(p.members[0].inFlight == 0 && p.isUp(0) && !p.isOverloaded(0))
        p.scraped(0, load: EndpointLoad(waiting: 3, running: 1, kvUsage: 0.5))
        #expect(p.members[0].load?.waiting == 3)
    }

    @Test func drainingTakesNothingUntilUndrainedAndProbed() {
        var p = pool()
        p.drain(1)
        #expect(!p.isUp(1))
        #expect(p.healthChecked(1, ok: true, now: t0).isEmpty)
        #expect(p.members[1].health == .draining)
        p.undrain(1)
        #expect(p.members[1].health == .probing)
        #expect(p.healthChecked(1, ok: true, now: t0) == [.restored(1)])
    }

    @Test func metricsTextGivesTheLoad() {
        let text = """
            # TYPE vllm:num_requests_waiting gauge
            vllm:num_requests_waiting{model_name="smollm2"} 3.0
            vllm:num_requests_running{model_name="smollm2"} 5
            vllm:kv_cache_usage_perc{model_name="smollm2"} 0.25
            vllm:num_requests_running_not{x="1"} 99
            baton_prompt_tokens_queued{model_name="smollm2"} 1234
            """
        #expect(EndpointLoad.parse(prometheusText: text) == EndpointLoad(waiting: 3, running: 5, kvUsage: 0.25, queuedPromptTokens: 1234))
        #expect(EndpointLoad.parse(prometheusText: "up 1\n") == nil)
        #expect(EndpointLoad.parse(prometheusText: "vllm:num_requests_waiting NaN\nvllm:num_requests_running -4\n") == EndpointLoad(waiting: 0, running: 0, kvUsage: 0))
    }
}

extension EndpointPool {
    /// A second ejection right after a success, to read the backoff it starts from.
    fileprivate mutating func requestEnded2(_ i: Int, now: ContinuousClock.Instant) -> [Action] {
        requestStarted(i)
        return requestEnded(i, outcome: .failure("again"), now: now)
    }
}
