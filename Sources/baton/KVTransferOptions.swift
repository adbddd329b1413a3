// `baton engine`'s prefill/decode flags: vLLM's `--kv-transfer-config JSON`, or the same
// settings as flat flags (which win over the JSON's). A KV server listening beyond loopback
// without a secret is refused here, before a model is loaded (`KVTransferServices.check`, which
// `KVTransferServices.make` applies again for any caller).

import ArgumentParser
import BatonKVTransfer
import BatonOpenAI
import Foundation

struct KVTransferOptions: ParsableArguments {
    @Option(help: "vLLM's KV transfer config as JSON: {\"kv_connector\":\"BatonConnector\",\"kv_role\":\"kv_producer\",\"engine_id\":…,\"kv_ip\":…,\"kv_port\":…,\"kv_connector_extra_config\":{\"lease_s\":30,\"heartbeat_s\":5,\"secret\":…,\"kv_load_failure_policy\":\"recompute\"}}.")
    var kvTransferConfig: String?
    @Option(help: "kv_producer, kv_consumer or kv_both.") var kvRole: String?
    @Option(help: "This engine's id in kv_transfer_params (default: a new UUID).") var kvEngineId: String?
    @Option(help: "Address of the KV transfer server (default 127.0.0.1).") var kvIp: String?
    @Option(help: "Port of the KV transfer server (default 14579).") var kvPort: Int?
    @Option(help: "Seconds a finished prefill's blocks are held without a heartbeat (default 30).") var kvLeaseS: Double?
    @Option(help: "Seconds between a decoder's heartbeats (default 5).") var kvHeartbeatS: Double?
    @Option(help: "Secret shared by the app's engines (default: $BATON_KV_SECRET or none; required when a producer's --kv-ip is not loopback).") var kvSecret: String?
    @Option(help: "recompute (default) or fail, when a pull fails.") var kvLoadFailurePolicy: String?

    /// The config the flags describe, with notes to log; nil when none is asked for.
    func config(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> (KVTransferConfig, [String])? {
        var config: KVTransferConfig
        var notes: [String] = []
        if let json = kvTransferConfig {
            do {
                (config, notes) = try KVTransferConfig.parse(json: json)
            } catch {
                throw ValidationError("--kv-transfer-config: \(error.description)")
            }
        } else if let kvRole {
            guard let role = KVRole(rawValue: kvRole) else {
                throw ValidationError("--kv-role '\(kvRole)' is not one of kv_producer, kv_consumer, kv_both")
            }
            config = KVTransferConfig(role: role, engineId: UUID().uuidString.lowercased())
        } else {
            let flat: [Any?] = [kvEngineId, kvIp, kvPort, kvLeaseS, kvHeartbeatS, kvSecret, kvLoadFailurePolicy]
            guard flat.allSatisfy({ $0 == nil }) else { throw ValidationError("the --kv-* flags need --kv-role or --kv-transfer-config") }
            return nil
        }
        if let kvRole, kvTransferConfig != nil {
            guard let role = KVRole(rawValue: kvRole) else {
                throw ValidationError("--kv-role '\(kvRole)' is not one of kv_producer, kv_consumer, kv_both")
            }
            config.role = role
        }
        if let kvEngineId { config.engineId = kvEngineId }
        if let kvIp { config.host = kvIp }
        if let kvPort { config.port = kvPort }
        if let kvLeaseS { config.leaseSeconds = kvLeaseS }
        if let kvHeartbeatS { config.heartbeatSeconds = kvHeartbeatS }
        if let kvSecret { config.secret = kvSecret } else if config.secret.isEmpty, let s = environment["BATON_KV_SECRET"] { config.secret = s }
        if let kvLoadFailurePolicy {
            guard let p = KVLoadFailurePolicy(rawValue: kvLoadFailurePolicy) else {
                throw ValidationError("--kv-load-failure-policy '\(kvLoadFailurePolicy)' is not recompute or fail")
            }
            config.loadFailurePolicy = p
        }
        do {
            try config.validate()
        } catch {
            throw ValidationError(error.description)
        }
        do {
            _ = try KVTransferServices.check(config)
        } catch {
            throw ValidationError(error.description)
        }
        return (config, notes)
    }
}
