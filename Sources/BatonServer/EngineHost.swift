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
        public var maxModelLen: Int { engine.config.scheduler.maxModelLen }

        public init(engine: LLMEngine, serving: ServingModel) {
            self.engine = engine
            self.serving = serving
        }
    }

    private let loaded = Mutex<Loaded?>(nil)
    public let created = Int(Date().timeIntervalSince1970)

    public init() {}

    public var current: Loaded? { loaded.withLock { $0 } }

    public func set(_ value: Loaded) { loaded.withLock { $0 = value } }
}

/// Loads the model (off the cooperative pool), publishes the engine, then runs its loop.
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
        try await EngineService(engine: loaded.engine).run()
    }
}
