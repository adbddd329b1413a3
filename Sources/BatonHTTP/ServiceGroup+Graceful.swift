// How Baton's servers join a ServiceGroup.

import ServiceLifecycle

extension ServiceGroupConfiguration.ServiceConfiguration {
    /// `service`, whose end (a return or an error) shuts the group down gracefully. The default
    /// cancels the group, and a cancelled Hummingbird server drops the connections it has
    /// accepted but not taken up; NIO traps on each (apple/swift-nio#3481). The error, if any,
    /// is still what the group's `run()` throws.
    public static func endingGracefully(_ service: any Service) -> Self {
        .init(service: service, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup)
    }
}
