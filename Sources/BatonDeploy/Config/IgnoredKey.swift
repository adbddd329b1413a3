// A key of the app config Baton read but does not act on, named by its path in the YAML.

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
