// The decode path of the matmul: y[r] = W[r] · x for the rows `rows`, weights dequantised in
// registers straight from the file's blocks, x prepared (Activations.swift).
//
// For Q4_1, Σ (q·d + m)·x' = d·Σ q·x' + m·s with s Q8_1's per-block sum (stored after the k
// values of the prepared row), as ggml's Q4_1×Q8_1 dot product computes it.

/// y[r] (+)= W[r] · x for r in `rows`; x is a prepared row of `k` values (plus Q8_1 sums).
public func gemv(
    _ x: UnsafePointer<Float>, k: Int, _ w: WeightMatrix, _ y: UnsafeMutablePointer<Float>,
    rows: Range<Int>, accumulate: Bool
) {
    switch w.type {
    case .q4_1:
        for r in rows {
            let v = dotQ4_1(w.row(r), x, k)
            if accumulate { y[r] += v } else { y[r] = v }
        }
    case .q4_0:
        for r in rows {
            let v = dotQ4_0(w.row(r), x, k)
            if accumulate { y[r] += v } else { y[r] = v }
        }
    case .q8_0:
        var r = rows.lowerBound
        while r + 2 <= rows.upperBound {
            let (v0, v1) = dotQ8_0x2(w.row(r), w.row(r + 1), x, k)
            if accumulate { y[r] += v0; y[r + 1] += v1 } else { y[r] = v0; y[r + 1] = v1 }
            r += 2
        }
        if r < rows.upperBound {
            let v = dotQ8_0(w.row(r), x, k)
            if accumulate { y[r] += v } else { y[r] = v }
        }
    case .f32:
        for r in rows {
            let v = dotF32(x, w.row(r).assumingMemoryBound(to: Float.self), k)
            if accumulate { y[r] += v } else { y[r] = v }
        }
    case .f16:
        for r in rows {
            let row = w.row(r)
            var acc = SIMD16<Float>()
            var c = 0
            while c < k {
                let h = row.loadUnaligned(fromByteOffset: 2 * c, as: SIMD16<Float16>.self)
                acc.addProduct(halfFloats(h), loadVector(x + c))
                c += 16
            }
            if accumulate { y[r] += acc.sum() } else { y[r] = acc.sum() }
        }
    }
}

@inline(__always)
func dotQ4_1(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ k: Int) -> Float {
    var acc = SIMD16<Float>()
    var mAcc: Float = 0
    var b = 0
    var p = row
    var xp = x
    while b < k {
        let d = halfToFloat(p, 0)
        let m = halfToFloat(p, 2)
        let q = p.loadUnaligned(fromByteOffset: 4, as: SIMD16<UInt8>.self)
        let x0 = loadVector(xp), x1 = loadVector(xp + 16)
        var t = nibbleFloats(q & 0x0F) * x0
        t.addProduct(nibbleFloats(q &>> 4), x1)
        acc.addProduct(t, SIMD16(repeating: d))
        mAcc += m * x[k + b / 32]
        p += 20
        xp += 32
        b += 32
    }
    return acc.sum() + mAcc
}

@inline(__always)
func dotQ4_0(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ k: Int) -> Float {
    var acc = SIMD16<Float>()
    var b = 0
    var p = row
    var xp = x
    while b < k {
        let d = halfToFloat(p, 0)
        let q = p.loadUnaligned(fromByteOffset: 2, as: SIMD16<UInt8>.self)
        var t = (nibbleFloats(q & 0x0F) - 8) * loadVector(xp)
        t.addProduct(nibbleFloats(q &>> 4) - 8, loadVector(xp + 16))
        acc.addProduct(t, SIMD16(repeating: d))
        p += 18
        xp += 32
        b += 32
    }
    return acc.sum()
}

@inline(__always)
func dotQ8_0(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ k: Int) -> Float {
    var acc = SIMD16<Float>()
    var b = 0
    var p = row
    var xp = x
    while b < k {
        let d = halfToFloat(p, 0)
        var t = int8Floats(p.loadUnaligned(fromByteOffset: 2, as: SIMD16<Int8>.self)) * loadVector(xp)
        t.addProduct(int8Floats(p.loadUnaligned(fromByteOffset: 18, as: SIMD16<Int8>.self)), loadVector(xp + 16))
        acc.addProduct(t, SIMD16(repeating: d))
        p += 34
        xp += 32
        b += 32
    }
    return acc.sum()
}

@inline(__always)
func dotQ8_0x2(_ row0: UnsafeRawPointer, _ row1: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ k: Int) -> (Float, Float) {
    var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>()
    var b = 0
    var p0 = row0, p1 = row1
    var xp = x
    while b < k {
        let x0 = loadVector(xp), x1 = loadVector(xp + 16)
        var t0 = int8Floats(p0.loadUnaligned(fromByteOffset: 2, as: SIMD16<Int8>.self)) * x0
        t0.addProduct(int8Floats(p0.loadUnaligned(fromByteOffset: 18, as: SIMD16<Int8>.self)), x1)
        acc0.addProduct(t0, SIMD16(repeating: halfToFloat(p0, 0)))
        var t1 = int8Floats(p1.loadUnaligned(fromByteOffset: 2, as: SIMD16<Int8>.self)) * x0
        t1.addProduct(int8Floats(p1.loadUnaligned(fromByteOffset: 18, as: SIMD16<Int8>.self)), x1)
        acc1.addProduct(t1, SIMD16(repeating: halfToFloat(p1, 0)))
        p0 += 34
        p1 += 34
        xp += 32
        b += 32
    }
    return (acc0.sum(), acc1.sum())
}
