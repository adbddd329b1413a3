// The engine behind the server, absent until the model is loaded (`/health` answers 503 and
// the API 503 with Retry-After until then). Loading and the engine loop are one Service.

import BatonEngine
import BatonModel
import Foundation
import ServiceLifecycle
import Synchronization

public final class EngineHost: Sendable {
    public struct Loaded: Sendable {
        public let engine: LLMEngine
        public let serving: ServingModel
        /// Services that live as long as the engine loop (the KV transfer server, the connector).
        public let services: [any Service]
        public var maxModelLen: Int { engine.config.scheduler.maxModelLen }

        public init(engine: LLMEngine, serving: ServingModel, services: [any Service] = []) {
            self.engine = engine
            self.serving = serving
            self.services = services
        }
    }

    private let loaded = Mutex<Loaded?>(nil)
    public let created = Int(Date().timeIntervalSince1970)

    public init() {}

    public var current: Loaded? { loaded.withLock { $0 } }

    public func set(_ value: Loaded) { loaded.withLock { $0 = value } }
}

/// Loads the model (off the cooperative pool), publishes the engine, then runs its loop and
/// its companion services.
public struct EngineLoaderService: Service {
    public let host: EngineHost
    public let load: @Sendable () throws -> EngineHost.Loaded

    public init(host: EngineHost, load: @escaping @Sendable () throws -> EngineHost.Loaded) {
        self.host = host
        self.load = load
    }

    public func run() async throws {
        let load = self.load
        let loaded: EngineHost.Loaded = try await withCheckedThrowingContinuation { c in
            Thread { c.resume(with: Result { try load() }) }.start()
        }
        host.set(loaded)
        try await withThrowingDiscardingTaskGroup { group in
            for service in loaded.services { group.addTask { try await service.run() } }
            group.addTask { try await EngineService(engine: loaded.engine).run() }
        }
    }
}
