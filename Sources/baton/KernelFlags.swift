// The matmul kernel flags of `baton engine` and `baton generate`, read once here and handed down
// as `KernelOptions` (the kernels read no environment).

import ArgumentParser
import BatonKernels

struct KernelFlags: ParsableArguments {
    @Flag(name: .customLong("no-vnni"), help: "Run the batched matmuls on the Swift kernel, not the AVX-512 VNNI one (same bits).")
    var noVNNI = false
    @Flag(name: .customLong("vnni-wide"), inversion: .prefixedNo,
          help: "The VNNI kernel's wide form, two tokens per zmm (same bits; default: not on AMD CPUs).")
    var vnniWide: Bool?

    var options: KernelOptions {
        KernelOptions(useVNNI: !noVNNI, vnniWide: vnniWide ?? KernelOptions.vnniWideDefault)
    }
}
