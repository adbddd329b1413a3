// `--kv-transfer-config` as vLLM takes it: one JSON object, so a config written for vLLM's
// NixlConnector runs unchanged (`NixlConnector` is read as `BatonConnector`, said once).
// A wrong type or value is an error naming the key; keys Baton does not use are reported.

import Foundation

extension KVTransferConfig {
    /// The config in `json`, and notes for the log (aliases taken, keys ignored).
    public static func parse(json: String) throws(KVTransferConfigError) -> (KVTransferConfig, notes: [String]) {
        guard let data = json.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data), let top = object as? [String: Any] else {
            throw KVTransferConfigError(description: "kv_transfer_config: not a JSON object")
        }
        var notes: [String] = []
        var reader = Keys(path: "kv_transfer_config", object: top)
        switch try reader.string("kv_connector") {
        case "BatonConnector", nil: break
        case "NixlConnector": notes.append("kv_transfer_config.kv_connector: NixlConnector is served by BatonConnector")
        case let other?:
            throw KVTransferConfigError(description: "kv_transfer_config.kv_connector: '\(other)' is not supported (BatonConnector, NixlConnector)")
        }
        guard let roleName = try reader.string("kv_role") else {
            throw KVTransferConfigError(description: "kv_transfer_config.kv_role is required (kv_producer, kv_consumer, kv_both)")
        }
        guard let role = KVRole(rawValue: roleName) else {
            throw KVTransferConfigError(description: "kv_transfer_config.kv_role: '\(roleName)' is not one of kv_producer, kv_consumer, kv_both")
        }
        var config = KVTransferConfig(role: role, engineId: try reader.string("engine_id") ?? UUID().uuidString.lowercased())
        if let ip = try reader.string("kv_ip") { config.host = ip }
        if let port = try reader.int("kv_port", in: 0...65535) { config.port = port }
        if let extra = try reader.object("kv_connector_extra_config") {
            var e = Keys(path: "kv_transfer_config.kv_connector_extra_config", object: extra)
            if let v = try e.number("lease_s", above: 0) { config.leaseSeconds = v }
            if let v = try e.number("heartbeat_s", above: 0) { config.heartbeatSeconds = v }
            if let v = try e.string("secret") { config.secret = v }
            if let v = try e.string("kv_load_failure_policy") {
                guard let policy = KVLoadFailurePolicy(rawValue: v) else {
                    throw KVTransferConfigError(description: "kv_transfer_config.kv_connector_extra_config.kv_load_failure_policy: '\(v)' is not recompute or fail")
                }
                config.loadFailurePolicy = policy
            }
            notes += e.unused()
        }
        notes += reader.unused()
        try config.validate()
        return (config, notes)
    }

    /// Checks values set any way (JSON or flags).
    public func validate() throws(KVTransferConfigError) {
        guard !engineId.isEmpty, engineId.utf8.count <= 1024 else { throw KVTransferConfigError(description: "engine_id must be 1 to 1024 bytes") }
        guard (0...65535).contains(port) else { throw KVTransferConfigError(description: "kv_port \(port) is not a port") }
        guard leaseSeconds > 0, heartbeatSeconds > 0 else { throw KVTransferConfigError(description: "lease_s and heartbeat_s must be > 0") }
        guard heartbeatSeconds < leaseSeconds else {
            throw KVTransferConfigError(description: "heartbeat_s (\(heartbeatSeconds)) must be shorter than lease_s (\(leaseSeconds)), or leases expire between heartbeats")
        }
    }
}

/// Typed reads from one JSON object, remembering which keys were read.
private struct Keys {
    let path: String
    let object: [String: Any]
    private var read: Set<String> = []

    init(path: String, object: [String: Any]) {
        self.path = path
        self.object = object
    }

    private mutating func value(_ key: String) -> Any? {
        read.insert(key)
        guard let v = object[key], !(v is NSNull) else { return nil }
        return v
    }

    mutating func string(_ key: String) throws(KVTransferConfigError) -> String? {
        guard let v = value(key) else { return nil }
        guard let s = v as? String else { throw KVTransferConfigError(description: "\(path).\(key): expected a string") }
        return s
    }

    mutating func number(_ key: String, above low: Double) throws(KVTransferConfigError) -> Double? {
        guard let v = value(key) else { return nil }
        guard !(v is Bool), let n = v as? NSNumber, n.doubleValue > low, n.doubleValue.isFinite else {
            throw KVTransferConfigError(description: "\(path).\(key): expected a number above \(low)")
        }
        return n.doubleValue
    }

    mutating func int(_ key: String, in range: ClosedRange<Int>) throws(KVTransferConfigError) -> Int? {
        guard let v = value(key) else { return nil }
        guard !(v is Bool), let n = v as? NSNumber, n.doubleValue == n.doubleValue.rounded(),
              range.contains(n.intValue) else {
            throw KVTransferConfigError(description: "\(path).\(key): expected an integer in \(range)")
        }
        return n.intValue
    }

    mutating func object(_ key: String) throws(KVTransferConfigError) -> [String: Any]? {
        guard let v = value(key) else { return nil }
        guard let o = v as? [String: Any] else { throw KVTransferConfigError(description: "\(path).\(key): expected an object") }
        return o
    }

    func unused() -> [String] {
        object.keys.filter { !read.contains($0) }.sorted().map { "\(path).\($0) is not used by Baton (ignored)" }
    }
}
