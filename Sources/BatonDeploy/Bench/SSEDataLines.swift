// Splits an SSE byte stream into `data:` payloads for `baton bench`'s client, whatever the
// chunk boundaries.

import AsyncHTTPClient
import Foundation
import NIOCore

/// Splits an SSE byte stream into `data:` payloads, whatever the chunk boundaries.
public struct SSEDataLines: Sendable {
    private var pending: [UInt8] = []

    public init() {}

    /// The complete `data:` payloads in `bytes` (with what came before), in order.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [String] {
        pending.append(contentsOf: bytes)
        var out: [String] = []
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            var line = pending[..<newline]
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            let text = String(decoding: line, as: UTF8.self)
            pending.removeSubrange(...newline)
            if text.hasPrefix("data:") { out.append(String(text.dropFirst(5)).trimmingCharacters(in: .whitespaces)) }
        }
        return out
    }
}
