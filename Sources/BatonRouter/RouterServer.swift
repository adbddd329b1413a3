// The router's HTTP app: the OpenAI routes through the proxy, `/v1/models` from the decode
// pool, `/health`, `/metrics`, and read-only `/admin/pools` and `/admin/app` (the replicas and
// autoscalers of the app `baton serve` runs).
//
//   ServiceGroup: [HealthService, Hummingbird Application]
//
// SIGTERM: the server stops accepting and lets streams in flight finish (up to the shutdown
// timeout), then exits 0.

import AsyncHTTPClient
import BatonHTTP
import BatonOpenAI
import Foundation
import Hummingbird
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle

public enum RouterServer {
    public static func router(core: RouterCore, registry: PrometheusCollectorRegistry) -> Router<RouterRequestContext> {
        let router = Router(context: RouterRequestContext.self)
        router.add(middleware: RequestIdMiddleware())
        router.add(middleware: OpenAIErrorMiddleware(maxBodyBytes: core.config.maxBodyBytes))
        if !core.config.apiKeys.isEmpty { router.add(middleware: APIKeyMiddleware(keys: core.config.apiKeys, alsoGuarded: ["/admin/"])) }
        let proxy = ProxyHandler(core: core)
        router.post("/v1/chat/completions") { request, context in
            try await proxy.respond(request, context: context, kind: .chat)
        }
        router.post("/v1/completions") { request, context in
            try await proxy.respond(request, context: context, kind: .completion)
        }
        router.get("/v1/models") { _, _ in try await models(core) }
        router.get("/health") { _, _ -> Response in
            let up = core.state.withLock { s in s.pool.indices(.decode).contains { s.pool.isUp($0) } }
            return up ? Response(status: .ok) : APIError.unavailable("No decode endpoint is healthy.").response()
        }
        router.get("/metrics") { _, _ -> Response in
            var buffer = [UInt8]()
            registry.emit(into: &buffer)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
        router.get("/admin/pools") { _, _ in try pools(core) }
        router.get("/admin/app") { _, _ -> Response in
            guard let status = core.appStatus.withLock({ $0 }) else {
                return APIError(status: 404, message: "This router runs no app (started by `baton router`, not `baton serve`).",
                                type: "not_found_error", code: "no_app").response()
            }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: status())))
        }
        return router
    }

    /// The first healthy decode's `/v1/models`, as it answered.
    static func models(_ core: RouterCore) async throws -> Response {
        let up = core.state.withLock { s in s.pool.indices(.decode).filter { s.pool.isUp($0) }.map { s.pool.members[$0].endpoint } }
        for endpoint in up {
            if let (status, body) = try? await core.upstream.get(endpoint, path: "/v1/models", timeout: core.config.timeouts.healthCheck),
               status == 200 {
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: body))
            }
        }
        throw APIError.unavailable("No decode endpoint answered /v1/models.", retryAfter: core.config.retryAfterSeconds)
    }

    /// One endpoint as `/admin/pools` lists it (`{"prefill": [...], "decode": [...]}`).
    public struct PoolEntry: Codable, Sendable {
        public var url: String
        public var role: String
        /// healthy, ejected, probing or draining.
        public var state: String
        public var inFlight: Int
        /// The engine's load as last scraped (nil before the first scrape).
        public var load: Load?
        public var prefixIndexBlocks: Int
        public var lastError: String?
        /// Its xPyD group in replica mode.
        public var group: Int?

        public struct Load: Codable, Sendable {
            public var waiting: Int
            public var running: Int
            public var kvCacheUsage: Double
            enum CodingKeys: String, CodingKey { case waiting, running, kvCacheUsage = "kv_cache_usage" }
        }

        enum CodingKeys: String, CodingKey {
            case url, role, state, load, group
            case inFlight = "in_flight", prefixIndexBlocks = "prefix_index_blocks", lastError = "last_error"
        }
    }

    static func pools(_ core: RouterCore) throws -> Response {
        var out: [String: [PoolEntry]] = ["prefill": [], "decode": []]
        for (m, blocks) in core.members() where m.health != .removed {
            out[m.role.rawValue, default: []].append(PoolEntry(
                url: m.endpoint.url, role: m.role.rawValue, state: m.health.name, inFlight: m.inFlight,
                load: m.load.map { .init(waiting: $0.waiting, running: $0.running, kvCacheUsage: $0.kvUsage) },
                prefixIndexBlocks: blocks, lastError: m.lastError, group: m.group))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(out))))
    }

    /// Metrics factory with the router's histogram buckets, into `registry`.
    public static func metricsFactory(registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.valueHistogramBuckets = RouterMetrics.histogramBuckets
        return factory
    }

    /// The router's parts, built but not running: its core (to add and remove endpoints at run
    /// time) and its services, for a ServiceGroup of the caller's (`baton serve` adds its
    /// supervisor). `shutdown()` once the group has ended.
    public struct Parts: Sendable {
        public let core: RouterCore
        /// [health checks, HTTP server]: the server is last, so a group stops it first.
        public let services: [any Service]

        public func shutdown() async throws { try await core.upstream.shutdown() }
    }

    public static func parts(config: RouterConfig, logger: Logger) throws -> Parts {
        let tokenizer = try makePromptTokenizer(config)
        let registry = PrometheusCollectorRegistry()
        let metrics = RouterMetrics(factory: metricsFactory(registry: registry))
        let upstream = Upstream(timeouts: config.timeouts, connectionsPerEndpoint: config.maxInFlightPerEndpoint, apiKey: config.upstreamAPIKey)
        let core = RouterCore(config: config, upstream: upstream, tokenizer: tokenizer, metrics: metrics, logger: logger)
        let app = Application(
            router: router(core: core, registry: registry), server: .router(core),
            configuration: .init(address: .hostname(config.host, port: config.port), serverName: "baton-router"),
            logger: logger)
        return Parts(core: core, services: [HealthService(core: core), app])
    }

    /// Serves until SIGTERM/SIGINT.
    public static func run(config: RouterConfig, logger: Logger, shutdownTimeout: Duration = .seconds(30)) async throws {
        let parts = try parts(config: config, logger: logger)
        var groupConfig = ServiceGroupConfiguration(
            services: parts.services.map { .endingGracefully($0) },
            gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [], logger: logger)
        groupConfig.maximumGracefulShutdownDuration = shutdownTimeout
        groupConfig.maximumCancellationDuration = .seconds(5)
        do {
            try await ServiceGroup(configuration: groupConfig).run()
        } catch {
            try? await parts.shutdown()
            throw error
        }
        try await parts.shutdown()
    }
}
