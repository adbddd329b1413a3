// A loopback TCP port no one listens on, for a child process that must be given a port number
// (the engine takes no port 0). The port is bound and released at once: another process may
// still take it before the child binds, but not at random as a guessed number could.

import NIOCore
import NIOPosix

public func freeLoopbackPort() async throws -> Int {
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .bind(host: "127.0.0.1", port: 0).get()
    let port = channel.localAddress?.port
    try await channel.close()
    guard let port else { throw FreePortError() }
    return port
}

struct FreePortError: Error, CustomStringConvertible {
    var description: String { "the bound socket reported no port" }
}
