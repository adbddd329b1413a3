// Hands a connection's replies to their requests on the event loop, once the handshake is
// done: a DATA frame's megabytes are copied into the KV cache right where they were decoded,
// without a hop to another thread first. Before the handshake completes, frames pass on to
// the connection's async reader.

import NIOCore
import Synchronization

final class KVReplyRouter: ChannelInboundHandler, Sendable {
    typealias InboundIn = KVFrame
    typealias InboundOut = KVFrame

    private let connection = Mutex<KVClientConnection?>(nil)

    /// From now on, frames go to `c`.
    func route(to c: KVClientConnection) { connection.withLock { $0 = c } }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let c = connection.withLock({ $0 }) else {
            context.fireChannelRead(data)
            return
        }
        do {
            try c.dispatch(unwrapInboundIn(data))
        } catch {
            context.fireErrorCaught(error)
        }
    }
}
