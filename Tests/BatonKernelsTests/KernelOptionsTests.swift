// The kernels take their path from `KernelOptions` (set from `baton engine`/`baton generate`
// flags), never from the environment.

import BatonTesting
import Foundation
import Testing
@testable import BatonKernels

@Suite struct KernelOptionsTests {
    /// useVNNI false: the Swift batched GEMV, whose bits are the ones the Swift-kernel scratch gives;
    /// useVNNI true (where the CPU has VNNI): the C kernel, which reads no float lanes.
    @Test func theOptionPicksTheKernel() {
        let m = 8, n = 12, k = 64
        var rng = SplitMix(seed: 29)
        let x = (0..<(m * k)).map { _ in rng.nextSigned() }
        let (bytes, _) = Quantize.encode((0..<(n * k)).map { _ in rng.nextSigned() }, rowLength: k, type: .q4_0)
        let pool = ThreadPool(threads: 1)
        func run(_ scratch: borrowing MatmulScratch) -> [Float] {
            let prepared = ActivationBuffer(maxRows: m, maxCols: k)
            prepared.prepare(x, rows: m, cols: k, for: .q4_0, pool: pool)
            var out = [Float](repeating: 0, count: m * n)
            bytes.withUnsafeBytes { raw in
                let w = WeightMatrix(data: raw.baseAddress!, type: .q4_0, rows: n, cols: k)
                out.withUnsafeMutableBufferPointer { matmul(prepared, w, $0.baseAddress!, scratch: scratch, pool: pool) }
            }
            return out
        }
        let swiftOnly = MatmulScratch(maxK: k, threads: 1, options: KernelOptions(useVNNI: false))
        let reference = MatmulScratch(maxK: k, threads: 1, useVNNI: false, vnniWide: false)
        let (swiftVNNI, swiftLanes) = (swiftOnly.useVNNI, matmulReadsLanes(rows: m, type: .q4_0, scratch: swiftOnly))
        let (swiftBits, referenceBits) = (run(swiftOnly).map(\.bitPattern), run(reference).map(\.bitPattern))
        #expect(!swiftVNNI)
        #expect(swiftLanes, "the Swift batched GEMV reads the float lanes")
        #expect(swiftBits == referenceBits)

        let asked = KernelOptions(useVNNI: true, vnniWide: true)
        #expect(asked.useVNNI == KernelOptions.vnniAvailable, "VNNI only where the CPU has it")
        let chosen = MatmulScratch(maxK: k, threads: 1, options: asked)
        let (chosenVNNI, chosenWide) = (chosen.useVNNI, chosen.vnniWide)
        let chosenLanes = matmulReadsLanes(rows: m, type: .q4_0, scratch: chosen)
        let chosenBits = run(chosen).map(\.bitPattern)
        #expect(chosenVNNI == KernelOptions.vnniAvailable && chosenWide)
        #expect(chosenLanes == !KernelOptions.vnniAvailable)
        #expect(chosenBits == referenceBits, "every kernel gives the same bits")
    }

    /// Configuration flows down as values: no source file of the kernels reads the environment.
    @Test func theKernelsReadNoEnvironment() throws {
        let dir = ScriptRunner.packageRoot.appendingPathComponent("Sources/BatonKernels")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".swift") }
        #expect(files.count > 5)
        for file in files {
            let text = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
            for word in ["getenv", "ProcessInfo", "environment["] {
                #expect(!text.contains(word), "Sources/BatonKernels/\(file) reads the environment (\(word))")
            }
        }
    }
}
