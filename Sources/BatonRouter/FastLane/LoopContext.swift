// What the fast lane keeps per event loop besides engine connections: request ids, the token
// cache, the body decoder and the flusher. Each is used only on its loop, so none takes a lock.

import BatonHTTP
import BatonModel
import Foundation
import NIOCore
import Synchronization

/// One event loop's share of the fast lane; used only on that loop.
final class LoopContext {
    let eventLoop: any EventLoop
    /// Its kept-alive engine connections.
    let upstreams: LoopUpstreams
    /// Its flushes, of engine connections and of client connections alike.
    let flusher: LoopFlusher
    /// Request ids for requests that come without one: this loop's own generator, seeded from
    /// system randomness (a system call per id cost more than the rest of making one).
    private var ids = SeededGenerator(seed: .random(in: .min ... .max))
    /// Prompt pieces already merged by the tokenizer.
    var tokenCache = BPECache()
    /// Its decoder of request bodies: a decoder takes a lock on each decode (it shows in router
    /// profiles), and one per loop is not shared between the loops.
    let decoder = JSONDecoder()

    init(eventLoop: any EventLoop, connectTimeout: TimeAmount, maxIdlePerEndpoint: Int) {
        self.eventLoop = eventLoop
        upstreams = LoopUpstreams(eventLoop: eventLoop, connectTimeout: connectTimeout, maxIdlePerEndpoint: maxIdlePerEndpoint)
        flusher = LoopFlusher(eventLoop: eventLoop)
    }

    func newRequestId() -> String { RequestId.make(using: &ids) }
}

/// Every event loop's `LoopContext`, made on first use.
final class LoopContexts: Sendable {
    private let loops = Mutex<[ObjectIdentifier: NIOLoopBound<LoopContext>]>([:])
    let connectTimeout: TimeAmount
    let maxIdlePerEndpoint: Int

    init(connectTimeout: TimeAmount, maxIdlePerEndpoint: Int) {
        self.connectTimeout = connectTimeout
        self.maxIdlePerEndpoint = maxIdlePerEndpoint
    }

    /// `eventLoop`'s context; call on `eventLoop`.
    func forLoop(_ eventLoop: any EventLoop) -> LoopContext {
        eventLoop.preconditionInEventLoop()
        return loops.withLock { loops in
            let key = ObjectIdentifier(eventLoop)
            if let found = loops[key] { return found.value }
            let made = LoopContext(eventLoop: eventLoop, connectTimeout: connectTimeout, maxIdlePerEndpoint: maxIdlePerEndpoint)
            loops[key] = NIOLoopBound(made, eventLoop: eventLoop)
            return made
        }
    }
}
