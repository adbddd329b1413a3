import Testing
@testable import BatonKernels

@Suite struct ThreadPoolTests {
    @Test func everyThreadRunsItsShare() {
        let pool = ThreadPool(threads: 3)
        var hits = [Int](repeating: 0, count: 300)
        hits.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            for _ in 0..<100 {
                pool.run { t, n in
                    for i in ThreadPool.range(of: 300, part: t, parts: n) { base[i] += 1 }
                }
            }
        }
        #expect(hits.allSatisfy { $0 == 100 })
    }
}
