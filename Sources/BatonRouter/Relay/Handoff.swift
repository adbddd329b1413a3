// What the fast lane did for a request it hands to the slow path (a split, a fallback, a
// rejection, a decode that failed before its first byte): the decoded body, the routing request
// made from its tokens, and the decision with its endpoints counted in flight. The slow path
// takes it up where the lane left off, so a request is decoded, tokenized and decided once.
//
//   fast lane: put(handoff), then head, body, end ─▶ Hummingbird ─▶ ProxyHandler: take()
//
// The slot is the connection's: the lane hands over only while Hummingbird owes no answer on
// it, so the next request Hummingbird's handler reads there is the one handed over. The handler
// finds the slot through a task-local set for the connection's task (RouterChannel.swift).

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
}

/// One client connection's handoff, from its event loop (the fast lane) to its Hummingbird task.
final class HandoffSlot: Sendable {
    private let slot = Mutex<Handoff?>(nil)

    /// The slot of the connection whose requests the current task serves.
    @TaskLocal static var current: HandoffSlot?

    func put(_ handoff: Handoff) {
        slot.withLock { $0 = handoff }
    }

    func take() -> Handoff? {
        slot.withLock { s in
            defer { s = nil }
            return s
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
