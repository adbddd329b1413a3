// What every engine replica of an app shares, as the supervisor starts them.

/// What every replica of an app shares.
public struct ReplicaContext: Sendable, Equatable {
    /// The model file the engines load (already pulled).
    public var modelPath: String
    /// The key the engines require; the router sends it (`upstream_api_key`).
    public var engineAPIKey: String
    /// The KV transfer secret shared by the app's engines.
    public var kvSecret: String

    public init(modelPath: String, engineAPIKey: String, kvSecret: String) {
        self.modelPath = modelPath
        self.engineAPIKey = engineAPIKey
        self.kvSecret = kvSecret
    }
}
