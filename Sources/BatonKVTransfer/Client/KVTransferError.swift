// Why a consumer's call to a producer failed (mapped to the engine's KVLoadFailureReason).

public enum KVTransferError: Error, Equatable, CustomStringConvertible {
    case connectionClosed(String)
    case refused(String)
    case protocolViolation(String)
    case remote(String)
    case timedOut(Double)

    public var description: String {
        switch self {
        case .connectionClosed(let why): "the connection to the producer closed: \(why)"
        case .refused(let why): "the producer refused the connection: \(why)"
        case .protocolViolation(let why): "the producer broke the protocol: \(why)"
        case .remote(let why): "the producer answered: \(why)"
        case .timedOut(let s): "no answer from the producer within \(s) s"
        }
    }
}
