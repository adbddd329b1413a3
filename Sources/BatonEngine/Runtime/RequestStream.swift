// A request's outputs as an AsyncSequence that aborts the request when its consumer goes away:
// an iterator dropped before the last output (a client that disconnected, a handler that threw)
// or a cancelled consuming task frees the request's blocks at once.

import Synchronization

public struct RequestStream: AsyncSequence, Sendable {
    public typealias Element = RequestOutput
    let base: AsyncThrowingStream<RequestOutput, Error>
    public let requestId: String
    let engine: LLMEngine

    public func makeAsyncIterator() -> Iterator {
        Iterator(base: base.makeAsyncIterator(), watch: AbortOnDrop(requestId: requestId, engine: engine))
    }

    public struct Iterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<RequestOutput, Error>.Iterator
        let watch: AbortOnDrop

        public mutating func next() async throws -> RequestOutput? {
            do {
                let out = try await base.next()
                if out == nil || out?.finishReason != nil { watch.finished.store(true, ordering: .relaxed) }
                return out
            } catch {
                watch.finished.store(true, ordering: .relaxed)
                throw error
            }
        }
    }
}

final class AbortOnDrop: Sendable {
    let requestId: String
    let engine: LLMEngine
    let finished = Atomic<Bool>(false)

    init(requestId: String, engine: LLMEngine) {
        self.requestId = requestId
        self.engine = engine
    }

    deinit {
        if !finished.load(ordering: .relaxed) { engine.abort(requestId) }
    }
}
