// The KV transfer's services for one engine, built from its one `KVTransferConfig`: the
// transfer server when it produces, the connector (attached to the engine) when it consumes.
// Leases expire in the engine's own loop, so they need no service. The secret rule
// (`KVTransferConfig.secretCheck`) is enforced here, for every caller: `baton engine` checks
// the same way at the edge (before loading a model), then calls `make` and runs what it
// returns beside the engine.

import BatonEngine
import BatonOpenAI
import Logging
import ServiceLifecycle

public enum KVTransferServices {
    /// Refuses a config whose KV server would listen beyond loopback without a secret; returns
    /// the warning to log when it listens on loopback without one (nil: nothing to say).
    public static func check(_ config: KVTransferConfig) throws(KVTransferSetupError) -> String? {
        switch config.secretCheck() {
        case .ok: nil
        case .warn(let why): why
        case .refuse(let why): throw KVTransferSetupError(why)
        }
    }

    /// The services `config` calls for on `engine`. Throws, before building any, for a config
    /// `check` refuses; logs the config once, and warns once when the server listens on loopback
    /// without a secret.
    public static func make(
        engine: LLMEngine, config: KVTransferConfig, compatibility: KVCompatibility, logger: Logger
    ) throws(KVTransferSetupError) -> [any Service] {
        let warning = try check(config)
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
        if let warning { logger.warning("\(warning)") }
        logger.info("KV transfer: \(config.role.rawValue) '\(config.engineId)', lease \(config.leaseSeconds) s, heartbeat \(config.heartbeatSeconds) s, on failure \(config.loadFailurePolicy.rawValue); \(compatibility)")
        return services
    }
}
