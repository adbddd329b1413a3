// `baton serve [app.yaml]`: the whole disaggregated app in one command. The router runs in
// this process; each engine replica is a child process of this binary, supervised.
//
//   ServiceGroup: [Supervisor, HealthService, router HTTP server]
//   Ctrl-C / SIGTERM stops them in reverse: the server stops taking requests and lets running
//   ones finish, then the supervisor drains and stops every engine.

import ArgumentParser
import BatonDeploy
import BatonHTTP
import BatonRouter
import Foundation
import Logging
import ServiceLifecycle

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the whole app: router, prefill and decode engines (Ray Serve's YAML, or the default app).")

    @Argument(help: "Ray Serve config (applications[].args.prefill_config/decode_config, router:). None: 1 prefill + 1 decode of smollm2.")
    var file: String?
    @Option(help: "Router port (overrides the file's).") var port: Int?
    @Option(help: "Router address (overrides the file's).") var host: String?
    @Flag(help: "Validate the file and print the resolved plan; start nothing.") var check = false
    @Option(help: "Seconds running requests get after Ctrl-C or SIGTERM before the router stops.") var shutdownTimeout = 30.0

    func validate() throws {
        if let port { guard (1...65535).contains(port) else { throw ValidationError("--port must be in 1...65535") } }
        guard shutdownTimeout > 0, shutdownTimeout < 1e6 else { throw ValidationError("--shutdown-timeout must be positive") }
    }

    func appConfig() throws -> AppConfig {
        var config: AppConfig
        if let file {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw ValidationError("cannot read \(file): \(error.localizedDescription)")
            }
            do {
                config = try AppConfig.load(yaml: text)
            } catch let error as ConfigError {
                throw ValidationError("\(file): \(error)")
            }
        } else {
            config = AppConfig.defaultApp()
        }
        if let port { config.router.port = port }
        if let host { config.router.host = host }
        return config
    }

    func run() async throws {
        var config = try appConfig()
        if check {
            print(config.plan)
            return
        }
        var logger = Logger(label: "baton.serve")
        logger.logLevel = .info
        for note in config.ignored { logger.notice("\(note)") }
        let t0 = ContinuousClock.now
        let store = ModelStore.fromEnvironment()
        let modelPath = try store.resolve(config.application.model.modelSource)
        if case .gguf(let name) = config.router.tokenizer { config.router.tokenizer = .gguf(path: try store.resolve(name)) }
        let engineKey = config.router.upstreamAPIKey ?? Self.randomToken()
        config.router.upstreamAPIKey = engineKey
        let context = ReplicaContext(
            modelPath: modelPath, engineAPIKey: engineKey,
            kvSecret: ProcessInfo.processInfo.environment["BATON_KV_SECRET"] ?? Self.randomToken())

        var routerLogger = Logger(label: "baton.router")
        routerLogger.logLevel = .info
        let router = try RouterServer.parts(config: config.router, logger: routerLogger)
        let supervisor = try Supervisor(
            app: config.application, router: router.core,
            settings: .init(executable: try Self.executablePath(), context: context, cpus: ProcessControl.allowedCPUs()),
            logger: logger)
        let app = config.application
        let listen = "http://\(config.router.host):\(config.router.port)"
        logger.info("app \(app.name): \(app.pools.map { "\($0.llm.scaling.startReplicas) \($0.role.rawValue)" }.joined(separator: " + ")) of \(app.model.modelID) (\(modelPath)); router on \(listen)")
        let announce = Task {
            await supervisor.ready()
            logger.info("ready: \(listen)/v1 serves \(app.model.modelID) (\(String(format: "%.1f", (ContinuousClock.now - t0).seconds)) s after start)")
        }
        var group = ServiceGroupConfiguration(
            services: ([supervisor as any Service] + router.services).map { .endingGracefully($0) },
            gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [], logger: logger)
        group.maximumGracefulShutdownDuration = .seconds(shutdownTimeout)
            + (app.pools.map(\.llm.deployment.gracefulShutdownTimeout).max() ?? .seconds(20)) + .seconds(5)
        group.maximumCancellationDuration = .seconds(5)
        defer { announce.cancel() }
        do {
            try await ServiceGroup(configuration: group).run()
        } catch {
            try? await router.shutdown()
            throw error
        }
        try await router.shutdown()
        logger.info("stopped")
    }

    /// This binary, for the engines.
    static func executablePath() throws -> String {
        let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw ValidationError("cannot find this binary to start the engines with (\(path))")
        }
        return path
    }

    static func randomToken() -> String {
        (0..<4).map { _ in String(UInt64.random(in: .min ... .max), radix: 16) }.joined()
    }
}
