import BatonKernelsC

// Dequantisation of whole rows to f32: embeddings lookups and the GEMM's weight panels.

/// dst (count) = f16(src) (round to nearest even). In C where AVX-512 is there: the Swift loop,
/// inlined into a caller built for the generic CPU (BatonModel, in release), became one call to
/// `__truncsfhf2` per value.
public func storeHalfs(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float16>, count: Int) {
    if avx512Available {
        baton_store_halfs(src, UnsafeMutableRawPointer(dst).assumingMemoryBound(to: UInt16.self), count)
        return
    }
    for i in 0..<count { dst[i] = Float16(src[i]) }
}

/// Writes `count` values of the row at `src` (in `type`) to `dst` as f32.
public func dequantizeRow(_ type: QuantType, _ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
    switch type {
    case .f32:
        dst.update(from: src.assumingMemoryBound(to: Float.self), count: count)
    case .f16:
        for i in 0..<count { dst[i] = halfToFloat(src, 2 * i) }
    case .q4_0:
        for b in 0..<(count / 32) {
            let p = src + b * 18
            let d = halfToFloat(p, 0)
            let q = p.loadUnaligned(fromByteOffset: 2, as: SIMD16<UInt8>.self)
            let lo = nibbleFloats(q & 0x0F) - 8
            let hi = nibbleFloats(q &>> 4) - 8
            storeVector(lo * d, dst + b * 32)
            storeVector(hi * d, dst + b * 32 + 16)
        }
    case .q4_1:
        for b in 0..<(count / 32) {
            let p = src + b * 20
            let d = halfToFloat(p, 0)
            let m = SIMD16<Float>(repeating: halfToFloat(p, 2))
            let q = p.loadUnaligned(fromByteOffset: 4, as: SIMD16<UInt8>.self)
            storeVector(nibbleFloats(q & 0x0F) * d + m, dst + b * 32)
            storeVector(nibbleFloats(q &>> 4) * d + m, dst + b * 32 + 16)
        }
    case .q8_0:
        for b in 0..<(count / 32) {
            let p = src + b * 34
            let d = halfToFloat(p, 0)
            let q0 = p.loadUnaligned(fromByteOffset: 2, as: SIMD16<Int8>.self)
            let q1 = p.loadUnaligned(fromByteOffset: 18, as: SIMD16<Int8>.self)
            storeVector(int8Floats(q0) * d, dst + b * 32)
            storeVector(int8Floats(q1) * d, dst + b * 32 + 16)
        }
    }
}

@inline(__always)
@usableFromInline
func nibbleFloats(_ q: SIMD16<UInt8>) -> SIMD16<Float> {
    // Element-wise so LLVM vectorises it (vpmovzxbd + vcvtdq2ps); the stdlib's generic
    // conversion initialisers are not inlined and run per lane.
    var r = SIMD16<Float>()
    for i in 0..<16 { r[i] = Float(q[i]) }
    return r
}

@inline(__always)
@usableFromInline
func int8Floats(_ q: SIMD16<Int8>) -> SIMD16<Float> {
    var r = SIMD16<Float>()
    for i in 0..<16 { r[i] = Float(q[i]) }
    return r
}

@inline(__always)
@usableFromInline
func halfFloats(_ h: SIMD16<Float16>) -> SIMD16<Float> {
    var r = SIMD16<Float>()
    for i in 0..<16 { r[i] = Float(h[i]) }
    return r
}

@inline(__always)
@usableFromInline
func loadVector(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}

@inline(__always)
@usableFromInline
func storeVector(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
}
