// Stop strings over streamed text: the shortest tail that could still begin a stop string is held back,
// so a stop string never reaches the client, even when it spans several tokens. Works on UTF-8
// bytes; what it releases always ends on a character boundary.

public struct StopChecker: Sendable {
    private let stops: [[UInt8]]
    private let holdBack: Int
    private var text: [UInt8] = []
    private var released = 0

    public init(stopStrings: [String]) {
        stops = stopStrings.map { Array($0.utf8) }.filter { !$0.isEmpty }
        holdBack = max(0, (stops.map(\.count).max() ?? 0) - 1)
    }

    /// Adds decoded text; returns what may be sent now, and whether a stop string was found (the
    /// text is then cut just before it and nothing more is released).
    public mutating func append(_ piece: String) -> (text: String, stopped: String?) {
        text.append(contentsOf: piece.utf8)
        guard !stops.isEmpty else { return (release(upTo: text.count), nil) }
        // A match can start at most `holdBack` bytes before the unreleased text.
        let from = max(0, released - holdBack)
        var earliest: (at: Int, stop: [UInt8])?
        for stop in stops where stop.count <= text.count - from {
            var i = from
            while i + stop.count <= text.count {
                if text[i] == stop[0], text[i..<(i + stop.count)].elementsEqual(stop) {
                    if earliest == nil || i < earliest!.at { earliest = (i, stop) }
                    break
                }
                i += 1
            }
        }
        if let earliest {
            let out = release(upTo: max(released, earliest.at))
            return (out, String(decoding: earliest.stop, as: UTF8.self))
        }
        var end = text.count - partialMatchLength()
        while end > released, end < text.count, text[end] & 0xC0 == 0x80 { end -= 1 }
        return (release(upTo: max(released, end)), nil)
    }

    /// Length of the longest tail of the text that is a proper prefix of a stop string.
    private func partialMatchLength() -> Int {
        var longest = 0
        for stop in stops {
            var k = min(stop.count - 1, text.count - released)
            while k > longest {
                if text[(text.count - k)...].elementsEqual(stop[0..<k]) { longest = k; break }
                k -= 1
            }
        }
        return longest
    }

    /// Everything still held back (at the end of the request).
    public mutating func flush() -> String { release(upTo: text.count) }

    private mutating func release(upTo end: Int) -> String {
        guard end > released else { return "" }
        defer { released = end }
        return String(decoding: text[released..<end], as: UTF8.self)
    }
}
