// The whole app `baton serve` runs: one application (a PD app or a collocated pool), the
// router's settings, and the keys Baton read but does not act on.

import BatonRouter

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
