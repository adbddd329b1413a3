// What the fast lane did for a request it hands to the slow path (a split, a fallback, a
// rejection, a decode that failed before its first byte): the decoded body, the routing request
// made from its tokens, and the decision with its endpoints counted in flight. The slow path
// takes it up where the lane left off, so a request is decoded, tokenized and decided once.
//
//   fast lane: put(handoff, id), then head + `x-baton-handoff: id`, body, end ─▶ Hummingbird
//     ─▶ ProxyHandler: take(id from the header)
//
// The slot is the connection's, and the handoff is tied to its request in-band: the lane numbers
// each handoff on the connection, names the number in a header of the head it hands over, and
// strips that header from every head a client sent. A handler takes the slot only for the
// number its request carries, so a request Hummingbird answered itself (a 401 from its key
// check) leaves its handoff for the lane to release when that answer ends, never to the next
// pipelined request. The handler finds the slot through a task-local set for the connection's
// task (RouterChannel.swift). No engine sees the header: both lanes build upstream heads anew.

import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

struct Handoff: Sendable {
    var kind: RequestKind
    var body: ProxyBody
    var routing: RoutingRequest
    /// `RoutingState.decide`'s answer, its endpoints counted in flight; nil when the decode it
    /// named failed before its first byte (counted against it): the slow path picks another.
    var decided: (decision: Decision, heldBlocks: Int)?
    /// When the lane took the request up: the request's timeout and its metrics count from here.
    var received: NIODeadline
    /// The lane decided and counted it already (its relay failed before the first byte, so
    /// `decided` is nil): the slow path's decision is a retry, not counted as a decision again.
    var decidedBefore: Bool { decided == nil }
    /// The lane's decision was counted in `splitsWithoutPrefill` (no prefill pool): the retry
    /// must not count it again, and must count a decision of its own that the lane's was not.
    var countedWithoutPrefill = false
}

/// One client connection's handoff, from its event loop (the fast lane) to its Hummingbird task.
final class HandoffSlot: Sendable {
    private let slot = Mutex<(id: String, handoff: Handoff)?>(nil)

    /// The header naming the handoff of the head it is on (the lane's alone: stripped from
    /// every head a client sent).
    static let header = "x-baton-handoff"

    /// The slot of the connection whose requests the current task serves.
    @TaskLocal static var current: HandoffSlot?

    func put(_ handoff: Handoff, id: String) {
        slot.withLock { $0 = (id, handoff) }
    }

    /// The handoff numbered `id` (its request's `x-baton-handoff`); nil, leaving the slot as it
    /// is, for a request without one or another number.
    func take(_ id: String?) -> Handoff? {
        slot.withLock { s in
            guard let id, let held = s, held.id == id else { return nil }
            s = nil
            return held.handoff
        }
    }

    /// Whatever the slot holds (the lane's, once the request it was for has been answered).
    func takeAny() -> Handoff? {
        slot.withLock { s in
            defer { s = nil }
            return s?.handoff
        }
    }
}

extension RouterCore {
    /// A decision that will not be carried out (its request was dropped before the slow path
    /// took it up): its endpoints leave the in-flight count.
    func release(_ decision: Decision) {
        switch decision {
        case .local(let d, _, let fallback): ended(d, .neutral, fallback: fallback)
        case .split(let p, let d):
            ended(p, .neutral)
            ended(d, .neutral)
        case .reject: break
        }
    }
}
