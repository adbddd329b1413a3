// The KV transfer's services for one engine, built from its one `KVTransferConfig`: the
// transfer server when it produces, the connector (attached to the engine) when it consumes.
// Leases expire in the engine's own loop, so they need no service. `baton engine` calls this
// and runs what it returns beside the engine.

import BatonEngine
import BatonOpenAI
import Logging
import ServiceLifecycle

public enum KVTransferServices {
    /// The services `config` calls for on `engine`. Logs the config once, and warns once when
    /// the server listens on loopback without a secret (`KVTransferConfig.secretCheck`; a
    /// non-loopback address without one is refused earlier, at the edge).
    public static func make(
        engine: LLMEngine, config: KVTransferConfig, compatibility: KVCompatibility, logger: Logger
    ) -> [any Service] {
        var logger = logger
        logger[metadataKey: "engine_id"] = "\(config.engineId)"
        var services: [any Service] = []
        if config.role.produces {
            services.append(KVTransferServer(engine: engine, config: config, compatibility: compatibility, logger: logger))
        }
        if config.role.consumes {
            let connector = BatonConnector(engine: engine, config: config, compatibility: compatibility, logger: logger)
            engine.connect(connector)
            services.append(connector)
        }
        if case .warn(let why) = config.secretCheck() { logger.warning("\(why)") }
        logger.info("KV transfer: \(config.role.rawValue) '\(config.engineId)', lease \(config.leaseSeconds) s, heartbeat \(config.heartbeatSeconds) s, on failure \(config.loadFailurePolicy.rawValue); \(compatibility)")
        return services
    }
}
