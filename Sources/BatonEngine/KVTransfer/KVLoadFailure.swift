// A failure to use a request's remote KV: its reason (`KVLoadFailureReason`) and the words
// for the log.

/// A failure to use a request's remote KV: its reason and what happened.
public struct KVLoadFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: KVLoadFailureReason
    public var detail: String

    public init(_ reason: KVLoadFailureReason, _ detail: String) {
        self.reason = reason
        self.detail = detail
    }

    public var description: String { "\(reason.rawValue): \(detail)" }
}
