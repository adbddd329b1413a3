// One pool of identical engines in the app `baton serve` runs.

/// One pool of identical engines.
public struct PoolConfig: Sendable, Equatable {
    public var role: PoolRole
    public var llm: LLMConfig

    public init(role: PoolRole, llm: LLMConfig) {
        self.role = role
        self.llm = llm
    }
}
