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

/// A blocking loopback TCP connection that sends nothing.
final class LoopbackSocket {
    let fd: Int32
    struct Failure: Error { var what: String }
    enum Ending: Equatable { case closed, timedOut, sentBytes }

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(what: "socket") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw Failure(what: "connect")
        }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// How the connection ended from the server's side: closed (EOF or reset), nothing within
    /// 10 s, or bytes the server sent unasked.
    func readUntilClosed() -> Ending {
        var byte: UInt8 = 0
        let n = read(fd, &byte, 1)
        if n > 0 { return .sentBytes }
        if n == 0 || errno == ECONNRESET { return .closed }
        return .timedOut
    }
}
