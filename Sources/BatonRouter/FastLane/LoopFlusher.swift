// One event loop's flushes, of engine connections and of client connections alike.

import NIOCore

/// Flushes written channels once per event-loop tick, after the tick's I/O events, rather than
/// once per request (as Netty's FlushConsolidationHandler does): the requests that came in one
/// batch of readable sockets go out together, so a peer woken by the first write finds the rest
/// waiting instead of being woken (and taking the router's CPU) once per request. A flush waits
/// only for the rest of the tick, never for a timer.
final class LoopFlusher {
    let eventLoop: any EventLoop
    private var pending: [any Channel] = []
    private var spare: [any Channel] = []

    init(eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    /// Flushes `channel` once the tick's I/O events are handled; call on `eventLoop`.
    func flushSoon(_ channel: any Channel) {
        pending.append(channel)
        guard pending.count == 1 else { return }
        eventLoop.assumeIsolated().execute { self.flushAll() }
    }

    private func flushAll() {
        swap(&pending, &spare)
        for channel in spare { channel.flush() }
        spare.removeAll(keepingCapacity: true)
    }
}
