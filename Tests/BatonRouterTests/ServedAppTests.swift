import BatonTesting
import Foundation
import Testing

@Suite struct ServedAppTests {
    /// Connections the server has accepted but not yet taken up when it is told to stop. With
    /// the serving task cancelled, NIO traps on each of them ("Deinited NIOAsyncWriter without
    /// calling finish()") and the whole test process dies, as it did once in CI. Stopped
    /// gracefully, the server takes up every connection, closes it, and stops listening.
    @Test func stoppingRightAfterABurstOfConnectionsClosesEveryOne() async throws {
        for round in 0..<4 {
            let server = try await FakeUpstream.start { _ in .json(status: 200, body: Data("{}".utf8)) }
            let sockets = try (0..<64).map { _ in try LoopbackSocket(port: server.port) }
            await server.stopAndWait()
            for (i, socket) in sockets.enumerated() {
                #expect(socket.readUntilClosed() == .closed, "round \(round), connection \(i)")
            }
            #expect(throws: LoopbackSocket.Failure.self, "round \(round): still listening") { try LoopbackSocket(port: server.port) }
        }
    }
}
