// The `smollm` pre-tokenizer: split every digit into its own piece (`\p{N}`), then split each
// piece with GPT-2's pattern
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// matched by hand, as llama.cpp's and Hugging Face's tokenizers do, over Unicode scalars.

struct ScalarClass: OptionSet {
    let rawValue: UInt8
    static let letter = ScalarClass(rawValue: 1)
    static let number = ScalarClass(rawValue: 2)
    static let whitespace = ScalarClass(rawValue: 4)

    init(rawValue: UInt8) { self.rawValue = rawValue }

    init(_ s: Unicode.Scalar) {
        if s.isASCII {
            // The same answers as the Unicode tables below, without looking them up.
            switch s.value {
            case 0x41...0x5A, 0x61...0x7A: self = .letter
            case 0x30...0x39: self = .number
            case 0x09...0x0D, 0x20: self = .whitespace
            default: self = []
            }
            return
        }
        var c: ScalarClass = []
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            c.insert(.letter)
        case .decimalNumber, .letterNumber, .otherNumber:
            c.insert(.number)
        default:
            break
        }
        if s.properties.isWhitespace { c.insert(.whitespace) }
        self = c
    }
}

enum PreTokenizer {
    /// Splits `text` into the pieces BPE runs on, as ranges of scalar indices.
    static func split(_ scalars: [Unicode.Scalar]) -> [Range<Int>] {
        let classes = scalars.map(ScalarClass.init)
        var pieces: [Range<Int>] = []
        scalars.withUnsafeBufferPointer { s in
            classes.withUnsafeBufferPointer { c in
                split(count: s.count, value: { s[$0].value }, cls: { c[$0] }, into: &pieces)
            }
        }
        return pieces
    }

    /// The same pieces for ASCII text read as its bytes, as ranges of byte indices; false (and
    /// no pieces) when a byte is not ASCII.
    static func splitASCII(_ bytes: UnsafeBufferPointer<UInt8>, into pieces: inout [Range<Int>]) -> Bool {
        var any: UInt8 = 0
        for b in bytes { any |= b }
        guard any < 0x80 else { return false }
        asciiClasses.withUnsafeBufferPointer { table in
            split(count: bytes.count, value: { UInt32(bytes[$0]) }, cls: { table[Int(bytes[$0])] }, into: &pieces)
        }
        return true
    }

    private static let asciiClasses: [ScalarClass] = (0..<128).map { ScalarClass(Unicode.Scalar(UInt8($0))) }

    @inline(__always)
    private static func split(count: Int, value: (Int) -> UInt32, cls: (Int) -> ScalarClass, into pieces: inout [Range<Int>]) {
        // Pass 1: every number scalar alone; the runs between them kept whole.
        var start = 0
        for i in 0..<count where cls(i).contains(.number) {
            if start < i { gpt2Split(start..<i, value, cls, into: &pieces) }
            pieces.append(i..<(i + 1))
            start = i + 1
        }
        if start < count { gpt2Split(start..<count, value, cls, into: &pieces) }
    }

    /// GPT-2's pattern over `range` (llama.cpp's `unicode_regex_split_custom_gpt2`).
    @inline(__always)
    private static func gpt2Split(
        _ range: Range<Int>, _ valueAt: (Int) -> UInt32, _ classAt: (Int) -> ScalarClass, into pieces: inout [Range<Int>]
    ) {
        let end = range.upperBound
        func cls(_ i: Int) -> ScalarClass? { i < end ? classAt(i) : nil }
        func value(_ i: Int) -> UInt32? { i < end ? valueAt(i) : nil }
        var pos = range.lowerBound
        while pos < end {
            let start = pos
            let c = valueAt(pos)
            // 's|'t|'re|'ve|'m|'ll|'d
            if c == 0x27, let n1 = value(pos + 1) {
                if n1 == 0x73 || n1 == 0x74 || n1 == 0x6D || n1 == 0x64 {
                    pieces.append(start..<(pos + 2)); pos += 2; continue
                }
                if let n2 = value(pos + 2),
                   (n1 == 0x72 && n2 == 0x65) || (n1 == 0x76 && n2 == 0x65) || (n1 == 0x6C && n2 == 0x6C) {
                    pieces.append(start..<(pos + 3)); pos += 3; continue
                }
            }
            let lead: ScalarClass? = c == 0x20 ? cls(pos + 1) : classAt(pos)
            if let lead, lead.contains(.letter) {
                // ' '?\p{L}+
                if c == 0x20 { pos += 1 }
                while let k = cls(pos), k.contains(.letter) { pos += 1 }
                pieces.append(start..<pos); continue
            }
            if let lead, lead.contains(.number) {
                // ' '?\p{N}+
                if c == 0x20 { pos += 1 }
                while let k = cls(pos), k.contains(.number) { pos += 1 }
                pieces.append(start..<pos); continue
            }
            if let lead, lead.isDisjoint(with: [.letter, .number, .whitespace]) {
                // ' '?[^\s\p{L}\p{N}]+
                if c == 0x20 { pos += 1 }
                while let k = cls(pos), k.isDisjoint(with: [.letter, .number, .whitespace]) { pos += 1 }
                pieces.append(start..<pos); continue
            }
            var spaces = 0
            while let k = cls(pos + spaces), k.contains(.whitespace) { spaces += 1 }
            if spaces > 1, pos + spaces < end {
                // \s+(?!\S): leave the last space to lead the next piece
                pos += spaces - 1
                pieces.append(start..<pos); continue
            }
            if spaces > 0 {
                pos += spaces
                pieces.append(start..<pos); continue
            }
            pos += 1
            pieces.append(start..<pos)
        }
    }
}
