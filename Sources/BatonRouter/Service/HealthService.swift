// Active health checks and load scrapes, as a Service: each endpoint has its own loop (a slow
// or hanging engine delays nobody else's checks): every check interval its `/health` (an
// ejected one only once its backoff is over: the half-open probe), every scrape interval, while
// healthy, its `/metrics` for its queue and KV usage.

import Logging
import ServiceLifecycle

public struct HealthService: Service {
    let core: RouterCore

    public init(core: RouterCore) { self.core = core }

    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            // The members at start, then each one added at run time (its index, once).
            for await i in core.newMembers.cancelOnGracefulShutdown() {
                group.addTask { await watch(i) }
            }
            group.cancelAll()
        }
    }

    func watch(_ i: Int) async {
        let settings = core.config.health
        var lastScrape = ContinuousClock.now - settings.scrapeInterval
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let now = ContinuousClock.now
            let member = core.state.withLock { s in
                s.tick(now: now)
                return s.pool.members[i]
            }
            switch member.health {
            case .healthy, .probing:
                let scrape = member.health == .healthy && now - lastScrape >= settings.scrapeInterval
                if scrape { lastScrape = now }
                await check(i, member.endpoint, scrape: scrape)
            case .ejected, .draining, .removed:
                break
            }
            try? await Task.sleep(for: settings.checkInterval, tolerance: .milliseconds(50))
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
