// argmaxFirst (16 values at a time) against the plain scan it replaces: the first index whose
// value exceeds every value before it, NaNs never chosen, 0 when nothing exceeds −∞.

import BatonTesting
import Testing
@testable import BatonKernels

@Suite struct ArgmaxTests {
    func scan(_ x: [Float]) -> Int {
        var best = -Float.infinity, index = 0
        for (i, v) in x.enumerated() where v > best {
            best = v
            index = i
        }
        return index
    }

    @Test func matchesTheScan() {
        var rng = SplitMix(seed: 42)
        var cases: [[Float]] = [
            [], [.nan], [-.infinity, -.infinity], [.nan, -.infinity, .nan],
            [-0.0, 0.0, 0.0], [1, 3, 3, 2], Array(repeating: 7, count: 40),
        ]
        for count in [1, 15, 16, 17, 31, 32, 33, 100, 49152] {
            // Few distinct values, so ties are common; some NaNs and infinities.
            var x = (0..<count).map { _ in Float(Int(rng.next() % 9)) - 4 }
            if count > 20 {
                x[Int(rng.next() % UInt64(count))] = .nan
                x[Int(rng.next() % UInt64(count))] = -.infinity
            }
            cases.append(x)
            cases.append(x.map { $0 == 4 ? .nan : $0 })
            var late = x.map { _ in Float(-1) }
            late[count - 1] = 5
            cases.append(late)
        }
        for x in cases {
            let got = x.withUnsafeBufferPointer { argmaxFirst($0.baseAddress ?? UnsafePointer(bitPattern: 16)!, count: x.count) }
            #expect(got == scan(x), "count \(x.count)")
        }
    }
}
