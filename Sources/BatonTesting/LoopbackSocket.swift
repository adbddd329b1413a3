// A blocking loopback TCP connection for RawHTTP; reads time out.

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A blocking loopback TCP connection; reads time out after `readTimeoutSeconds`.
public final class LoopbackSocket {
    public let fd: Int32
    public struct Failure: Error { public var what: String }
    public enum Ending: Equatable { case closed, timedOut, sentBytes }

    public init(port: Int, readTimeoutSeconds: Int = 10) throws {
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
        var timeout = timeval(tv_sec: readTimeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// How the connection ended from the server's side, for a client that sends nothing: closed
    /// (EOF or reset), nothing within the read timeout, or bytes the server sent unasked.
    public func readUntilClosed() -> Ending {
        var byte: UInt8 = 0
        let n = read(fd, &byte, 1)
        if n > 0 { return .sentBytes }
        if n == 0 || errno == ECONNRESET { return .closed }
        return .timedOut
    }
}
