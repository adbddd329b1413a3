// How the servers join their ServiceGroup (`endingGracefully`): a service that fails stops the
// others by graceful shutdown, not by cancellation, and its error is what the group throws.

import BatonHTTP
import Logging
import ServiceLifecycle
import Synchronization
import Testing

@Suite struct ServiceGroupTests {
    struct LoadFailed: Error {}

    struct Fails: Service {
        func run() async throws {
            try await Task.sleep(for: .milliseconds(50))
            throw LoadFailed()
        }
    }

    /// Runs until the group stops it; records whether that was a graceful shutdown.
    final class Watches: Service, Sendable {
        let stoppedGracefully = Mutex<Bool?>(nil)
        func run() async throws {
            do {
                try await gracefulShutdown()
                stoppedGracefully.withLock { $0 = true }
            } catch {
                stoppedGracefully.withLock { $0 = false }
                throw error
            }
        }
    }

    @Test func aFailingServiceShutsTheOthersDownGracefully() async throws {
        let watcher = Watches()
        let group = ServiceGroup(configuration: .init(
            services: [.endingGracefully(Fails()), .endingGracefully(watcher)], logger: Logger(label: "test")))
        await #expect(throws: LoadFailed.self) { try await group.run() }
        #expect(watcher.stoppedGracefully.withLock { $0 } == true)
    }
}
