// Which matmul kernels a model runs, chosen once at the edge (the `--no-vnni` and
// `--vnni-wide`/`--no-vnni-wide` flags of `baton engine` and `baton generate`) and handed down
// to `MatmulScratch`; nothing below reads the environment.

import BatonKernelsC

/// The matmul kernel choices; every choice gives the same bits, only the speed differs.
public struct KernelOptions: Sendable, Equatable {
    /// Batched GEMV (2–64 rows of quantised weights, and prefill) with BatonKernelsC's vpdpbusd
    /// kernel rather than Swift's `batchedGemv`. Default: where the CPU has AVX-512 VNNI.
    public var useVNNI: Bool
    /// The VNNI kernel's wide form, two tokens per zmm. Default: not on AMD CPUs (Zen 4 splits
    /// zmm operations in two), elsewhere yes.
    public var vnniWide: Bool

    /// The CPU's defaults; `useVNNI` is false where the CPU has no VNNI whatever is asked.
    public init(useVNNI: Bool = KernelOptions.vnniAvailable, vnniWide: Bool = KernelOptions.vnniWideDefault) {
        self.useVNNI = useVNNI && Self.vnniAvailable
        self.vnniWide = vnniWide
    }

    /// Whether this CPU has AVX-512 VNNI.
    public static let vnniAvailable = baton_vnni_available() != 0
    /// Whether the wide form is this CPU's default (not on AMD CPUs).
    public static let vnniWideDefault = baton_vnni_wide_default() != 0
}
