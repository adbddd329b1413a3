// Active health checks and load scrapes, as a Service: every check interval each endpoint's
// `/health` (ejected ones only once their backoff is over: the half-open probe), every scrape
// interval each healthy endpoint's `/metrics` for its queue and KV usage.

import Logging
import ServiceLifecycle

public struct HealthService: Service {
    let core: RouterCore

    public init(core: RouterCore) { self.core = core }

    public func run() async throws {
        let settings = core.config.health
        var lastScrape = ContinuousClock.now - settings.scrapeInterval
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let now = ContinuousClock.now
            core.carryOut(core.state.withLock { $0.tick(now: now) })
            let scrape = now - lastScrape >= settings.scrapeInterval
            if scrape { lastScrape = now }
            await checkAll(scrape: scrape)
            try? await Task.sleep(for: settings.checkInterval, tolerance: .milliseconds(50))
        }
    }

    /// One round: probes every endpoint that is healthy or due, and scrapes the healthy ones.
    public func checkAll(scrape: Bool) async {
        let members = core.state.withLock { $0.pool.members }
        await withTaskGroup(of: Void.self) { group in
            for (i, m) in members.enumerated() {
                switch m.health {
                case .healthy, .probing:
                    group.addTask { await check(i, m.endpoint, scrape: scrape && m.health == .healthy) }
                case .ejected, .draining:
                    break
                }
            }
        }
    }

    func check(_ i: Int, _ endpoint: Endpoint, scrape: Bool) async {
        let timeout = core.config.timeouts.healthCheck
        var ok = false, reason = ""
        do {
            let (status, _) = try await core.upstream.get(endpoint, path: "/health", timeout: timeout, limit: 64 << 10)
            ok = status == 200
            if !ok { reason = "/health answered \(status)" }
        } catch {
            reason = "/health failed: \(error)"
        }
        let actions = core.state.withLock { $0.healthChecked(i, ok: ok, reason: reason, now: .now) }
        core.carryOut(actions)
        guard ok, scrape else { return }
        let load: EndpointLoad?
        do {
            let (status, body) = try await core.upstream.get(endpoint, path: "/metrics", timeout: timeout, limit: 8 << 20)
            load = status == 200 ? EndpointLoad.parse(prometheusText: String(buffer: body)) : nil
        } catch {
            load = nil
        }
        core.state.withLock { $0.scraped(i, load: load) }
    }
}
