// Loads the model off the cooperative pool, publishes the engine, then runs its loop and companion services.

import BatonEngine
import BatonModel
import Foundation
import ServiceLifecycle
import Synchronization

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
