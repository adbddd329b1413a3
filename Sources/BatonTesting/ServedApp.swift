// A Hummingbird app served on a loopback port for a test, until the test stops it. Stopping is
// a graceful shutdown, never a cancelled task: cancelling the task that serves drops the
// connections the server had accepted but not yet taken up, and NIO traps on each of them
// ("Deinited NIOAsyncWriter without calling finish()", apple/swift-nio#3481; it took the whole
// test process down in CI). A graceful shutdown closes the listening socket, takes up every
// connection already accepted and closes each once its answer is out.

import Logging
import ServiceLifecycle

public final class ServedApp: Sendable {
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    /// Starts serving `service` (a Hummingbird `Application`) at once.
    public init(_ service: some Service, logger: Logger = Logger(label: "test.server")) {
        var config = ServiceGroupConfiguration(
            services: [.init(service: service)], gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)
        // An answer still going out after this (a test that left a stream open) is cancelled;
        // every accepted connection has been taken up long before.
        config.maximumGracefulShutdownDuration = .seconds(5)
        config.maximumCancellationDuration = .seconds(5)
        let group = ServiceGroup(configuration: config)
        self.group = group
        task = Task { try await group.run() }
    }

    /// Starts the shutdown and returns at once.
    public func stop() {
        Task { [group] in await group.triggerGracefulShutdown() }
    }

    /// Shuts down and returns once serving has ended.
    public func stopAndWait() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}
