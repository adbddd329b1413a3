// One entry of the app config's `applications[]`: a PD app or a collocated pool.

/// One entry of `applications[]`.
public struct Application: Sendable, Equatable {
    public var name: String
    public var routePrefix: String = "/"
    public var kind: AppKind
    /// The model every pool serves (both configs must name the same, as in Ray Serve).
    public var model: ModelLoadingConfig
    public var pdMode: PDMode = .pooled
    /// `[prefill, decode]` for a PD app, `[both]` for a collocated one.
    public var pools: [PoolConfig]

    public init(name: String, kind: AppKind, model: ModelLoadingConfig, pools: [PoolConfig]) {
        self.name = name
        self.kind = kind
        self.model = model
        self.pools = pools
    }

    public func pool(_ role: PoolRole) -> PoolConfig? { pools.first { $0.role == role } }
}
