// Whether an engine may run its KV channel without a secret. An empty secret's HMAC passes for
// any peer that also has none, so a KV server reachable beyond this host must have one; on
// loopback only local processes can reach it, and a warning is enough.

extension KVTransferConfig {
    /// The verdict on the secret.
    public enum SecretCheck: Sendable, Equatable {
        /// A secret is set, or this engine does not listen (a consumer only connects out).
        case ok
        /// No secret, listening on loopback: allowed, with this warning to log once.
        case warn(String)
        /// No secret, listening beyond loopback: refused, for this reason.
        case refuse(String)
    }

    /// Checks the secret against where the KV server listens (`host`). Pure.
    public func secretCheck() -> SecretCheck {
        guard secret.isEmpty, role.produces else { return .ok }
        if Self.isLoopback(host) {
            return .warn("the KV channel has no secret (--kv-secret, BATON_KV_SECRET or kv_connector_extra_config.secret): any local process can read the held KV blocks on \(host):\(port)")
        }
        return .refuse("the KV transfer server listens on \(host), beyond loopback, and has no secret: any host that can reach \(host):\(port) could read the held KV blocks. Set --kv-secret, BATON_KV_SECRET or kv_connector_extra_config.secret (the same on every engine of the app), or listen on 127.0.0.1.")
    }

    /// `localhost`, 127.0.0.0/8 and ::1 (in any spelling of IPv6, or IPv4-mapped).
    static func isLoopback(_ host: String) -> Bool {
        var h = host.lowercased()
        if h.hasPrefix("["), h.hasSuffix("]") { h = String(h.dropFirst().dropLast()) }
        if h == "localhost" || h.hasSuffix(".localhost") { return true }
        if h.hasPrefix("::ffff:") { h = String(h.dropFirst(7)) }
        let octets = h.split(separator: ".", omittingEmptySubsequences: false)
        if octets.count == 4, octets.allSatisfy({ UInt8($0) != nil }) { return octets[0] == "127" }
        // IPv6: loopback is all zero groups but a final 1.
        guard h.contains(":") else { return false }
        let groups = h.split(separator: ":", omittingEmptySubsequences: true)
        guard let last = groups.last, UInt16(last, radix: 16) == 1 else { return false }
        return groups.dropLast().allSatisfy { UInt16($0, radix: 16) == 0 } && groups.count <= 8
    }
}
