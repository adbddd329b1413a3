// A failed pull's error in the engine's closed set of reasons (`baton_kv_load_failures_total{reason}`).

import BatonEngine

extension KVLoadFailure {
    /// `error` from a pull: the transfer's own errors by kind; anything else (a connect that
    /// failed, a socket error) means the producer could not be reached.
    init(_ error: any Error) {
        guard let e = error as? KVTransferError else {
            self.init(.peerUnreachable, "\(error)")
            return
        }
        switch e {
        case .connectionClosed: self.init(.peerUnreachable, e.description)
        case .refused: self.init(.handshakeRefused, e.description)
        case .protocolViolation: self.init(.protocolError, e.description)
        case .remote: self.init(.blocksMissing, e.description)
        case .timedOut: self.init(.timedOut, e.description)
        }
    }
}
