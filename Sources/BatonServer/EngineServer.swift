// The engine's HTTP app: routes, middleware and the services behind them.
//
//   ServiceGroup: [EngineLoaderService (load model → engine loop), Hummingbird Application]
//
// SIGTERM: the server stops accepting and waits for in-flight responses, then the engine
// drains; past `shutdownTimeoutSeconds` everything left is aborted. Exit status 0.

import BatonEngine
import BatonHTTP
import BatonOpenAI
import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle

public enum EngineServer {
    /// The router with every route and middleware, for the server and for router-level tests.
    public static func router(
        host: EngineHost, config: ServerConfig, registry: PrometheusCollectorRegistry
    ) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: RequestIdMiddleware())
        router.add(middleware: OpenAIErrorMiddleware(maxBodyBytes: config.maxBodyBytes))
        if let key = config.apiKey { router.add(middleware: APIKeyMiddleware(keys: [key])) }
        let generation = Generation(host: host, config: config)
        let info = InfoRoutes(generation: generation, registry: registry)
        router.post("/v1/chat/completions") { request, context in
            try await generation.respond(request, context: context, kind: .chat)
        }
        router.post("/v1/completions") { request, context in
            try await generation.respond(request, context: context, kind: .completion)
        }
        router.get("/v1/models") { _, _ in try info.models() }
        router.post("/tokenize") { request, _ in try await info.tokenize(request) }
        router.post("/detokenize") { request, _ in try await info.detokenize(request) }
        router.get("/health") { _, _ in info.health() }
        router.get("/metrics") { _, _ in info.metrics() }
        router.get("/version") { _, _ in "{\"version\":\"baton-0.1\"}" }
        return router
    }

    /// Metrics factory with vLLM's histogram buckets, into `registry`.
    public static func metricsFactory(registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.valueHistogramBuckets = EngineMetrics.histogramBuckets
        return factory
    }

    /// Serves until SIGTERM/SIGINT. `load` builds the engine with the given metrics.
    public static func run(
        config: ServerConfig, logger: Logger,
        load: @escaping @Sendable (EngineMetrics) throws -> EngineHost.Loaded
    ) async throws {
        let registry = PrometheusCollectorRegistry()
        let factory = metricsFactory(registry: registry)
        let host = EngineHost()
        let app = Application(
            router: router(host: host, config: config, registry: registry),
            server: .http1(configuration: .init(idleTimeout: config.idleTimeoutSeconds.map { .milliseconds(Int64($0 * 1000)) })),
            configuration: .init(address: .hostname(config.host, port: config.port), serverName: "baton"),
            logger: logger)
        let metrics = EngineMetrics(modelName: config.servedModelName, factory: factory)
        let loader = EngineLoaderService(host: host) { try load(metrics) }
        var groupConfig = ServiceGroupConfiguration(
            // A model that fails to load stops the server gracefully, and its error is what run() throws.
            services: [.endingGracefully(loader), .endingGracefully(app)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            cancellationSignals: [],
            logger: logger)
        groupConfig.maximumGracefulShutdownDuration = .milliseconds(Int64(config.shutdownTimeoutSeconds * 1000))
        groupConfig.maximumCancellationDuration = .seconds(5)
        try await ServiceGroup(configuration: groupConfig).run()
    }
}
