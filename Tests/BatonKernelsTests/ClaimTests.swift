// The work-stealing ranges of the VNNI matmul (baton_claim_front / baton_claim_back): two
// threads taking units of one range from both ends take every unit exactly once.

import BatonKernelsC
import Testing
@testable import BatonKernels

@Suite struct ClaimTests {
    @Test func everyUnitTakenOnce() {
        for units in [0, 1, 2, 7, 1000, 100_000] {
            let range = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
            range.pointee = UInt64(units) << 32
            let taken = UnsafeMutablePointer<UInt8>.allocate(capacity: max(units, 1))
            taken.initialize(repeating: 0, count: max(units, 1))
            let pool = ThreadPool(threads: 2)
            pool.run { t, _ in
                // Thread 0 owns the range (front), thread 1 steals (back).
                while case let u = t == 0 ? baton_claim_front(range) : baton_claim_back(range), u >= 0 {
                    taken[u] &+= 1
                }
            }
            let counts = (0..<units).map { taken[$0] }
            #expect(counts.allSatisfy { $0 == 1 }, "units \(units)")
            #expect(baton_claim_front(range) == -1 && baton_claim_back(range) == -1)
            range.deallocate()
            taken.deallocate()
        }
    }

    @Test func frontAndBackOrder() {
        var range = UInt64(5) << 32 | 2   // units 2..<5
        #expect(baton_claim_front(&range) == 2)
        #expect(baton_claim_back(&range) == 4)
        #expect(baton_claim_front(&range) == 3)
        #expect(baton_claim_back(&range) == -1)
    }
}
