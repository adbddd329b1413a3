// The whole app `baton serve` runs: one application (a PD app or a collocated pool), the
// router's settings, and the keys Baton read but does not act on.

import BatonRouter

/// Which Ray Serve builder the application names in `import_path`.
public enum AppKind: String, Sendable, Equatable {
    /// `ray.serve.llm:build_pd_openai_app`: a prefill pool and a decode pool behind the router.
    case pd = "ray.serve.llm:build_pd_openai_app"
    /// `ray.serve.llm:build_openai_app`: one pool of `kv_both` engines, every request on the
    /// router's local path.
    case openai = "ray.serve.llm:build_openai_app"
}

/// How prefill and decode replicas pair up (AIBrix's two modes).
public enum PDMode: Sendable, Equatable {
    /// Any prefill with any decode (default).
    case pooled
    /// xPyD units: a request's prefill and decode come from the same group, and scaling adds or
    /// removes whole groups (counted by `decode_config`'s replicas).
    case replica(prefill: Int, decode: Int)
}

/// What a pool's engines do.
public enum PoolRole: String, Sendable, Equatable {
    case prefill, decode
    /// Collocated engines (a `build_openai_app` pool): prefill and decode in one.
    case both
}

/// One pool of identical engines.
public struct PoolConfig: Sendable, Equatable {
    public var role: PoolRole
    public var llm: LLMConfig

    public init(role: PoolRole, llm: LLMConfig) {
        self.role = role
        self.llm = llm
    }
}

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

/// A loaded app config. The router's `prefill`/`decode` endpoint lists are empty here: the
/// supervisor fills them as replicas come up.
public struct AppConfig: Sendable {
    public var application: Application
    public var router: RouterConfig
    /// Keys read but not acted on, in document order.
    public var ignored: [IgnoredKey]

    public init(application: Application, router: RouterConfig, ignored: [IgnoredKey] = []) {
        self.application = application
        self.router = router
        self.ignored = ignored
    }
}
