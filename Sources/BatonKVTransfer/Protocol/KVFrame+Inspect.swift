// What a frame is, for routing replies by sequence number and for log lines.

extension KVFrame {
    /// The request a reply or data frame belongs to; nil for handshake frames.
    var seq: UInt32? {
        switch self {
        case .read(let seq, _, _), .data(let seq, _, _), .end(let seq), .done(let seq, _), .heartbeat(let seq, _),
             .ok(let seq), .error(let seq, _):
            seq
        case .challenge, .hello, .welcome, .refuse:
            nil
        }
    }

    /// `text` cut to a frame string's limit (reasons that quote ids from outside).
    static func clip(_ text: String) -> String {
        guard text.utf8.count > maxStringBytes else { return text }
        var out = ""
        for ch in text {
            if out.utf8.count + ch.utf8.count > maxStringBytes - 3 { break }
            out.append(ch)
        }
        return out + "…"
    }

    /// The frame's name in docs/kv-transfer.md's terms.
    var kind: String { type.name }
}
