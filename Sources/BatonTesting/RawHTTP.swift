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
