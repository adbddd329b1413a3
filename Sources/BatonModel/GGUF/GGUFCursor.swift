// A bounds-checked little-endian reader over the file's bytes: every read says what it is
// reading, so a short or corrupt file fails with an error naming the field.

struct GGUFCursor {
    let base: UnsafeRawPointer
    let count: Int
    var offset: Int = 0

    var remaining: Int { count - offset }

    mutating func need(_ n: Int, _ what: @autoclosure () -> String) throws(GGUFError) {
        guard n >= 0, n <= remaining else {
            throw .truncated(what: what(), offset: offset, needed: n, fileSize: count)
        }
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws(GGUFError) -> T {
        try need(MemoryLayout<T>.size, what())
        let v = T(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += MemoryLayout<T>.size
        return v
    }

    /// A count that must fit in the rest of the file at `minimumSize` bytes per item.
    mutating func readCount(_ what: @autoclosure () -> String, minimumSize: Int) throws(GGUFError) -> Int {
        let raw = try read(UInt64.self, what())
        let limit = UInt64(remaining / max(minimumSize, 1))
        guard raw <= limit else { throw .absurdCount(what: what(), count: raw, limit: limit) }
        return Int(raw)
    }

    mutating func readString(_ what: @autoclosure () -> String) throws(GGUFError) -> String {
        let length = try readCount("length of " + what(), minimumSize: 1)
        let start = offset
        let bytes = UnsafeRawBufferPointer(start: base + offset, count: length)
        offset += length
        guard let s = String(validating: bytes, as: UTF8.self) else {
            throw .invalidUTF8(what: what(), offset: start)
        }
        return s
    }
}
