// Per-thread scratch for the matmul's decoded weight panels.

/// Per-thread scratch for decoded weight panels.
public struct MatmulScratch: ~Copyable {
    /// (threads, panelStride) f32.
    let panels: UnsafeMutablePointer<Float>
    let panelStride: Int
    public let maxK: Int
    public let threads: Int
    /// Batched GEMV (2–64 rows of quantised weights) with BatonKernelsC's vpdpbusd kernel
    /// rather than Swift's `batchedGemv` (same bits; tests run both).
    public let useVNNI: Bool
    /// The VNNI kernel's wide form: two tokens per zmm (same bits). Faster where a zmm
    /// operation costs what a ymm one does (Intel); AMD's Zen 4 splits zmm operations in two.
    public let vnniWide: Bool

    /// Whether this CPU has AVX-512 VNNI.
    public static var vnniAvailable: Bool { KernelOptions.vnniAvailable }

    public init(maxK: Int, threads: Int, options: KernelOptions = KernelOptions()) {
        self.init(maxK: maxK, threads: threads, useVNNI: options.useVNNI, vnniWide: options.vnniWide)
    }

    public init(maxK: Int, threads: Int, useVNNI: Bool, vnniWide: Bool) {
        precondition(!useVNNI || Self.vnniAvailable, "this CPU has no AVX-512 VNNI")
        self.maxK = maxK
        self.threads = threads
        self.useVNNI = useVNNI
        self.vnniWide = vnniWide
        let floatPanel = panelRows * preparedStride(cols: maxK, format: .f32)
        let quantPanel = (maxK / 32) * (quantPanelBlock + panelRows)
        panelStride = Swift.max(floatPanel, quantPanel) + 16
        panels = .allocate(capacity: panelStride * threads)
        panels.initialize(repeating: 0, count: panelStride * threads)
    }

    deinit { panels.deallocate() }
}
