// The BPE merge loop over one pre-tokenized piece: start from the piece's bytes (as alphabet
// symbols), repeatedly merge the adjacent pair of lowest rank (leftmost on ties), then map the
// symbols to vocabulary ids, spelling unknown ones byte by byte.

extension Tokenizer {
    func bpe(_ bytes: UnsafeBufferPointer<UInt8>, into out: inout [Int32]) {
        var symbols = bytes.map { byteSymbols[Int($0)] }
        while symbols.count > 1 {
            var bestRank = Int32.max, bestIndex = -1, bestResult: Int32 = 0
            for i in 0..<(symbols.count - 1) {
                let key = UInt64(UInt32(symbols[i])) << 32 | UInt64(UInt32(symbols[i + 1]))
                if let m = merges[key], m.rank < bestRank {
                    bestRank = m.rank
                    bestIndex = i
                    bestResult = m.result
                }
            }
            guard bestIndex >= 0 else { break }
            symbols[bestIndex] = bestResult
            symbols.remove(at: bestIndex + 1)
        }
        for s in symbols {
            let token = symbolToToken[Int(s)]
            if token >= 0 {
                out.append(token)
            } else if let bytes = ByteLevel.decode(symbolTexts[Int(s)]) {
                for b in bytes {
                    let t = symbolToToken[Int(byteSymbols[Int(b)])]
                    if t >= 0 { out.append(t) }
                }
            }
        }
    }
}
