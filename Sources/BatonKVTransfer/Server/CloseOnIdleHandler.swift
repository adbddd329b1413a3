// Closes a connection that has sent nothing for a while (after `IdleStateHandler` says so):
// a peer that connects and never finishes the handshake, or a consumer that stopped using its
// connection, does not hold a task forever. Consumers reconnect on their next pull.

import NIOCore

final class CloseOnIdleHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
