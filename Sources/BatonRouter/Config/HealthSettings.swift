// How often the router checks and scrapes its endpoints (RouterConfig.health).

public struct HealthSettings: Sendable, Equatable {
    /// How often every endpoint's `/health` is checked.
    public var checkInterval: Duration = .seconds(1)
    /// How often every endpoint's `/metrics` is scraped for its load.
    public var scrapeInterval: Duration = .seconds(1)
    /// An ejected endpoint waits this long before its first half-open probe, doubling per
    /// failed probe up to `maxBackoff`.
    public var baseBackoff: Duration = .milliseconds(500)
    public var maxBackoff: Duration = .seconds(30)

    public init() {}
}
