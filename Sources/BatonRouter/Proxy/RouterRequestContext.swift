// The router's request context: Hummingbird's, plus the client's connection, so the proxy can
// notice a client that left while the engines are still working for it without giving up
// keep-alive (Hummingbird's inbound-close watch closes every connection it watched).

import Hummingbird
import HummingbirdCore
import NIOCore

public struct RouterRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's connection.
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

extension RouterRequestContext {
    /// Runs `operation`, cancelled if the client's connection goes away first. A client's FIN
    /// closes the connection (`NoHalfClosure` turns half-closure off as it opens: an HTTP/1
    /// client that stops sending has left); the connection is looked at every 50 ms, which costs nothing
    /// measurable beside an engine call.
    func untilClientLeaves<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        let channel = channel
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                while channel.isActive { try await Task.sleep(for: .milliseconds(50)) }
                return nil
            }
            defer { group.cancelAll() }
            while let next = try await group.next() {
                if let value = next { return value }
                throw CancellationError()  // the client left
            }
            throw CancellationError()
        }
    }
}

/// Turns remote half-closure off for a client connection as it opens, so a client's FIN closes
/// it (Hummingbird allows half-closure, which would leave a departed client's connection active).
final class NoHalfClosure: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = NIOAny

    func handlerAdded(context: ChannelHandlerContext) {
        try? context.channel.syncOptions?.setOption(ChannelOptions.allowRemoteHalfClosure, value: false)
    }
}
