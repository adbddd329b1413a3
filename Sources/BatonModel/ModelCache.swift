// Where the model cache lives: the folder `baton model pull` fills and tests look in.

/// Where models are cached: `$BATON_HOME/models`, `$BATON_HOME` defaulting to
/// `$HOME/.cache/baton`.
public enum ModelCache {
    public static func directory(environment: [String: String]) -> String {
        let home = environment["BATON_HOME"] ?? ((environment["HOME"] ?? "/root") + "/.cache/baton")
        return home + "/models"
    }

    /// Where `model` lands once pulled.
    public static func path(of model: KnownModel, environment: [String: String]) -> String {
        directory(environment: environment) + "/" + model.fileName
    }
}
