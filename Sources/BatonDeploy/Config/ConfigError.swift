// The errors the app config loader produces, each naming a key's path in the YAML
// (`applications[0].args.decode_config.deployment_config.num_replicas`).

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
