// A raw HTTP/1 client over a loopback socket, for tests that need bytes exactly as written
// (pipelining, half-sent requests) or to see when the server closes.

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A loopback client that writes bytes as given (pipelining included) and reads until `until`
/// has come, the server closes, or 60 s pass (in the full suite the live-engine tests keep both
/// cores busy and the in-process router took over 10 s to answer once: the read timed out
/// empty). Its blocking socket calls run on a thread of its own: blocking one of Swift
/// concurrency's few threads would starve the in-process router and fake engine it talks to.
public enum RawHTTP {
    /// Writes `send` and reads until the server closes the connection (or 60 s pass): what came,
    /// and the seconds it took.
    public static func untilClosed(port: Int, send: String) async throws -> (text: String, seconds: Double) {
        let start = ContinuousClock.now
        let text = try await exchange(port: port, send: send, until: "\u{0}never")
        let took = ContinuousClock.now - start
        return (text, Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18)
    }

    public static func exchange(port: Int, send: String, until: String) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try blockingExchange(port: port, send: send, until: until) }) }.start()
        }
    }

    private static func blockingExchange(port: Int, send: String, until: String) throws -> String {
        let socket = try LoopbackSocket(port: port, readTimeoutSeconds: 60)
        let bytes = Array(send.utf8)
        guard bytes.withUnsafeBytes({ write(socket.fd, $0.baseAddress, $0.count) }) == bytes.count else {
            throw LoopbackSocket.Failure(what: "write")
        }
        var received = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !String(decoding: received, as: UTF8.self).contains(until) {
            let n = buffer.withUnsafeMutableBytes { read(socket.fd, $0.baseAddress, $0.count) }
            guard n > 0 else { break }
            received += buffer[0..<n]
        }
        return String(decoding: received, as: UTF8.self)
    }
}

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
