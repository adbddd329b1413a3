// One client connection's fast-lane state, as a value: which request is being read, whether an
// answer of ours is going out, what waits behind it, and what Hummingbird still owes. Events
// in (a request part read, a read completion, an answer ended, a quiesce, a decoder error),
// actions out; `FastLane` carries them out on the channel (as NIO's HTTPServerPipelineHandler
// does with its ConnectionState). Tests drive it without a socket.
//
//   head ─ not ours ─▶ forward head, then its body… end (passing)
//     └ ours: body… end ─▶ decide ─ relayStarted ─ … ─ relayEnded ─▶ take what queued
//                                └ handedOver ─▶ forward head, body, end
//   while relaying: parts queue (and reading stops once one has); a decoder error or a
//   quiesce waits until the answer has gone out and the queue is taken.

import NIOCore
import NIOHTTP1

struct FastLaneConnection {
    /// Bodies above this are Hummingbird's (it answers 413).
    let maxBodyBytes: Int

    enum Reading {
        /// Between requests.
        case idle
        /// A request of ours: its head and the body so far.
        case ours(HTTPRequestHead, RequestKind, ByteBuffer)
        /// A request given to Hummingbird whose body is still arriving.
        case passing
    }

    private(set) var reading = Reading.idle
    /// An answer of ours is going out (a relay runs).
    private(set) var relaying = false
    /// Requests given to Hummingbird whose answer has not ended.
    private(set) var passedAnswers = 0
    /// A part went to Hummingbird since the last read completion passed on.
    private(set) var forwarded = false
    /// Parts that came while an answer of ours was going out.
    private(set) var queued = CircularBuffer<HTTPServerRequestPart>()
    /// A read was asked for while parts were queued: done once they are taken.
    private(set) var readHeld = false
    /// The queue is being taken (a relay that ends inside it must not take it again).
    private(set) var draining = false
    /// The server asked to close idle connections while an answer of ours was going out.
    private(set) var quiescePending = false
    /// The HTTP/1 decoder failed on bytes after a request whose answer was still owed: passed on
    /// (Hummingbird answers 400 and closes) once the answers before it have gone out.
    private(set) var errorPending: (any Error)?

    init(maxBodyBytes: Int) {
        self.maxBodyBytes = maxBodyBytes
    }

    enum ReadAction {
        /// Nothing to do now (kept, or queued).
        case none
        /// Pass this part to Hummingbird.
        case forward(HTTPServerRequestPart)
        /// A request of ours grew past the body limit: pass its head and both parts of its body.
        case passOversized(HTTPRequestHead, ByteBuffer, ByteBuffer)
        /// A request of ours was read whole: decide it, then `relayStarted` or `handedOver`.
        case decide(HTTPRequestHead, RequestKind, ByteBuffer)
    }

    // MARK: Inbound events

    /// A request part from the HTTP/1 decoder.
    mutating func read(_ part: HTTPServerRequestPart) -> ReadAction {
        if relaying || !queued.isEmpty {
            queued.append(part)
            return .none
        }
        return take(part)
    }

    /// Takes a part in order: one read now, or one that waited in the queue.
    mutating func take(_ part: HTTPServerRequestPart) -> ReadAction {
        var part = part
        // The handoff header is the lane's (Handoff.swift): a client's copy goes nowhere, from
        // every head whatever the state.
        if case .head(var head) = part, head.headers.contains(name: HandoffSlot.header) {
            head.headers.remove(name: HandoffSlot.header)
            part = .head(head)
        }
        if case .passing = reading {
            if case .end = part { reading = .idle }
            return forward(part)
        }
        switch part {
        case .head(let head):
            guard case .idle = reading else { return forward(.head(head)) }  // not from NIO's decoder
            if let kind = ours(head) {
                reading = .ours(head, kind, ByteBuffer())
                return .none
            }
            passedAnswers += 1
            reading = .passing
            return forward(.head(head))
        case .body(var chunk):
            guard case .ours(let head, let kind, var body) = reading else { return forward(part) }
            if body.readableBytes + chunk.readableBytes > maxBodyBytes {
                // Hummingbird answers 413 as it always does.
                passedAnswers += 1
                reading = .passing
                forwarded = true
                return .passOversized(head, body, chunk)
            }
            reading = .idle  // drop the state's copy of the body before appending
            if body.readableBytes == 0 {
                body = chunk  // the usual case, a body in one read: kept, not copied
            } else {
                body.writeBuffer(&chunk)
            }
            reading = .ours(head, kind, body)
            return .none
        case .end:
            guard case .ours(let head, let kind, let body) = reading else { return forward(part) }
            reading = .idle
            return .decide(head, kind, body)
        }
    }

    /// The kind of a request the fast lane may take: only a POST to one of the two OpenAI
    /// routes, over HTTP/1.1, while Hummingbird owes no answer on this connection, with at most
    /// one `Authorization` field (Hummingbird joins repeated ones with ", " and checks that:
    /// such a request is its to answer, 401 if keys are set).
    /// More than one `Authorization` field, found without making an array of them.
    static func repeatsAuthorization(_ headers: HTTPHeaders) -> Bool {
        var seen = false
        for (name, _) in headers where name.utf8.count == 13 && name.lowercased() == "authorization" {
            if seen { return true }
            seen = true
        }
        return false
    }

    private func ours(_ head: HTTPRequestHead) -> RequestKind? {
        guard head.method == .POST, head.version == .http1_1, passedAnswers == 0,
              !Self.repeatsAuthorization(head.headers) else { return nil }
        switch head.uri {
        case "/v1/completions": return .completion
        case "/v1/chat/completions": return .chat
        default: return nil
        }
    }

    private mutating func forward(_ part: HTTPServerRequestPart) -> ReadAction {
        forwarded = true
        return .forward(part)
    }

    /// A read ended: whether its completion goes on to Hummingbird (only after a read that
    /// passed it something: a request the lane took has nothing for the handlers behind it).
    mutating func readComplete() -> Bool {
        defer { forwarded = false }
        return forwarded
    }

    /// A read completion is passed on outside a read (Hummingbird's async channel takes parts
    /// only then).
    mutating func readCompletePassed() {
        forwarded = false
    }

    /// The HTTP/1 decoder failed: whether the error goes on now (else it waits its turn).
    mutating func decoderFailed(_ error: any Error) -> Bool {
        guard relaying || !queued.isEmpty else { return true }
        errorPending = error
        return false
    }

    /// The server asks idle connections to close: whether that goes on now (else once the
    /// answer going out and the request being read are done).
    mutating func quiesce() -> Bool {
        guard relaying || isReadingOurs || !queued.isEmpty else { return true }
        quiescePending = true
        return false
    }

    private var isReadingOurs: Bool {
        if case .ours = reading { return true }
        return false
    }

    /// The client left. Whether an answer of ours was going out (its engine call is dropped).
    mutating func closed() -> Bool {
        defer {
            relaying = false
            queued.removeAll()
        }
        return relaying
    }

    // MARK: Outbound events

    /// The channel asks for more bytes: whether to read now (not while parts wait).
    mutating func readRequested() -> Bool {
        guard queued.isEmpty else {
            readHeld = true
            return false
        }
        return true
    }

    /// Hummingbird wrote the end of an answer.
    mutating func passedAnswerEnded() {
        passedAnswers -= 1
    }

    // MARK: The decided request

    /// The request `decide` named is relayed by the lane.
    mutating func relayStarted() {
        precondition(!relaying, "one answer of ours at a time")
        relaying = true
    }

    /// The request `decide` named goes to Hummingbird whole (also after a relay that failed
    /// before its first byte: `relayEnded` first). The caller forwards head, body and end.
    mutating func handedOver() {
        passedAnswers += 1
        forwarded = true
    }

    /// The answer of ours has gone out (or failed before its first byte).
    mutating func relayEnded() {
        relaying = false
    }

    // MARK: Taking the queue

    /// Starts taking what waited; false if already taking it (a relay ended inside the take).
    mutating func beginDrain() -> Bool {
        guard !draining else { return false }
        draining = true
        return true
    }

    /// The next part that waited, while no answer of ours is going out; take it with `take`.
    mutating func nextQueued() -> HTTPServerRequestPart? {
        guard !relaying else { return nil }
        return queued.popFirst()
    }

    enum DrainAction {
        /// Pass a read completion on (parts were taken).
        case fireReadComplete
        /// Do the read that was held.
        case read
        case fireError(any Error)
        case fireQuiesce
    }

    /// Done taking what waited (`took`: some parts were); what follows, in order.
    mutating func endDrain(took: Bool) -> [DrainAction] {
        draining = false
        var actions: [DrainAction] = []
        if took {
            forwarded = false
            actions.append(.fireReadComplete)
        }
        guard queued.isEmpty else { return actions }
        if readHeld {
            readHeld = false
            actions.append(.read)
        }
        if !relaying, let error = errorPending {
            errorPending = nil
            actions.append(.fireError(error))
        }
        if !relaying, !isReadingOurs, quiescePending {
            quiescePending = false
            actions.append(.fireQuiesce)
        }
        return actions
    }
}
