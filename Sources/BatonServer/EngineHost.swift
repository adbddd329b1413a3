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
