// The errors and notes the app config loader produces, each naming a key's path in the YAML
// (`applications[0].args.decode_config.deployment_config.num_replicas`).

/// A key Baton read but does not act on. Listed once by `baton serve --check` and at start-up,
/// so that nothing a Ray Serve user wrote is dropped without a word.
public struct IgnoredKey: Sendable, Equatable, CustomStringConvertible {
    /// Where the key sits, e.g. `applications[0].args.prefill_config.accelerator_type`.
    public var path: String
    /// Why Baton does not use it.
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "ignored: \(path) (\(reason))" }
}

/// A config Baton cannot run: a wrong type, a bad value, or a contradiction between keys.
/// The description is `path: message`, e.g.
/// `applications[0].args.decode_config.deployment_config.autoscaling_config.max_replicas: expected an integer`.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The key's path; empty for the document itself.
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}
