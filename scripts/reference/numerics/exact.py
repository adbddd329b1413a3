# bit-exact simulations of ggml CPU (AVX2/AVX512-VNNI build) kernels
import numpy as np
from nplib import *
LD = np.longdouble
def r32(x): return np.asarray(x).astype(f32)
def fma32(a, b, c):  # single-rounded fma in f32 via 80-bit long double (exact for our magnitudes)
    return (LD(1) * a.astype(LD) * b.astype(LD) + c.astype(LD)).astype(f32)
_cache = {}
def w41(name):
    if name not in _cache: _cache[name] = q41(name)
    return _cache[name]
def mm_q41_exact(wname, x, summs_fma=False):
    dw, mw, qw = w41(wname)            # (R,nb), (R,nb), (R,nb,32)
    dx, qx, sx = quant_q8(x)           # (N,nb), (N,nb,32), (N,nb)
    R, nb, _ = qw.shape; N = x.shape[0]
    # xy lanes: int dot over groups of 4 consecutive elements
    xy = np.einsum('rbjk,nbjk->nrbj', qw.reshape(R, nb, 8, 4), qx.reshape(N, nb, 8, 4)).astype(f32)  # exact ints
    acc = np.zeros((N, R, 8), dtype=f32)
    summs = np.zeros((N, R), dtype=f32)
    for b in range(nb):
        d0d1 = r32(dw[None, :, b] * dx[:, None, b])        # (N,R)
        if summs_fma: summs = fma32(np.broadcast_to(mw[None, :, b], (N, R)), np.broadcast_to(sx[:, None, b], (N, R)), summs)
        else: summs = r32(summs + r32(mw[None, :, b] * sx[:, None, b]))
        acc = fma32(np.broadcast_to(d0d1[..., None], acc.shape), xy[:, :, b, :], acc)
    r = r32(acc[..., 4:] + acc[..., :4])           # 4 lanes: i + i+4
    r2 = r32(r[..., 0:2] + r[..., 2:4])            # (0+2),(1+3)
    h = r32(r2[..., 0] + r2[..., 1])
    return r32(h + summs)
def rmsnorm_exact(x, w, eps=f32(1e-5)):
    # ggml: sum += (ggml_float)(x*x) sequential in double; mean=(float)(sum/ne); scale=1/sqrtf(mean+eps)
    sq = r32(x * x).astype(np.float64)
    s = np.zeros(x.shape[0])
    for i in range(x.shape[1]): s = s + sq[:, i]
    mean = (s / x.shape[1]).astype(f32)
    scale = r32(f32(1) / np.sqrt(r32(mean + eps)))
    return r32(r32(x * scale[:, None]) * w[None])

import ctypes
_libm = ctypes.CDLL('libm.so.6')
_libm.cosf.restype = ctypes.c_float; _libm.cosf.argtypes = [ctypes.c_float]
_libm.sinf.restype = ctypes.c_float; _libm.sinf.argtypes = [ctypes.c_float]
_libm.powf.restype = ctypes.c_float; _libm.powf.argtypes = [ctypes.c_float, ctypes.c_float]
def rope_cache(p, nd=64, base=100000.0):
    theta_scale = f32(_libm.powf(float(f32(base)), float(f32(-2.0) / f32(nd))))  # glibc powf(base, -2.0f/n_dims)
    th = f32(p); c = np.zeros(nd // 2, f32); s = np.zeros(nd // 2, f32)
    for j in range(nd // 2):
        c[j] = _libm.cosf(float(th)); s[j] = _libm.sinf(float(th)); th = f32(th * theta_scale)
    return c, s
def rope_exact(x, pos, variant='plain'):  # x (n, heads, 64)
    out = np.empty_like(x)
    for i, p in enumerate(pos):
        c, s = rope_cache(p)
        x0 = x[i, :, 0::2]; x1 = x[i, :, 1::2]
        if variant == 'plain':
            out[i, :, 0::2] = r32(r32(x0 * c) - r32(x1 * s)); out[i, :, 1::2] = r32(r32(x0 * s) + r32(x1 * c))
        elif variant == 'fma1':  # fma(x0,c, -(x1*s))
            out[i, :, 0::2] = fma32(x0, np.broadcast_to(c, x0.shape), -r32(x1 * s)); out[i, :, 1::2] = fma32(x0, np.broadcast_to(s, x0.shape), r32(x1 * c))
        elif variant == 'fma2':  # fma(-x1,s, x0*c)
            out[i, :, 0::2] = fma32(-x1, np.broadcast_to(s, x0.shape), r32(x0 * c)); out[i, :, 1::2] = fma32(x1, np.broadcast_to(c, x0.shape), r32(x0 * s))
    return out
def reduce_add16(v):  # _mm512_reduce_add_ps over last axis (16)
    a = r32(v[..., 8:] + v[..., :8]); b = r32(a[..., 4:] + a[..., :4]); c = r32(b[..., 2:] + b[..., :2]); return r32(c[..., 0] + c[..., 1])
def tinyblas_f16_dot(A, B):  # A (..., M, K) f16-valued f32, B (..., N, K) -> (..., N, M); lanes accumulate k = l + 16 t sequentially via fma
    K = A.shape[-1]; acc = None
    for t in range(K // 16):
        a = A[..., None, :, t*16:(t+1)*16]; b = B[..., :, None, t*16:(t+1)*16]
        prod = r32(a.astype(np.float64) * b.astype(np.float64))  # f16*f16 exact in f32 anyway
        acc = prod if acc is None else fma32(np.broadcast_to(a, prod.shape), np.broadcast_to(b, prod.shape), acc)
    return reduce_add16(acc)
def v_expf(x):
    x = x.astype(f32)
    r = f32(float.fromhex('0x1.8p23'))
    z = fma32(x, np.full_like(x, f32(float.fromhex('0x1.715476p+0'))), np.full_like(x, r))
    n = r32(z - r)
    t = fma32(-n, np.full_like(x, f32(float.fromhex('0x1.62e4p-1'))), x)
    b = fma32(-n, np.full_like(x, f32(float.fromhex('0x1.7f7d1cp-20'))), t)
    u = r32(b * b)
    F = lambda a, bb, c: fma32(np.broadcast_to(f32(a), x.shape) if np.ndim(a) == 0 else a, bb, np.broadcast_to(f32(c), x.shape) if np.ndim(c) == 0 else c)
    p1 = F(f32(float.fromhex('0x1.0e4020p-7')), b, f32(float.fromhex('0x1.573e2ep-5')))
    p2 = F(f32(float.fromhex('0x1.555e66p-3')), b, f32(float.fromhex('0x1.fffdb6p-2')))
    p3 = F(f32(float.fromhex('0x1.ffffecp-1')), b, f32(1.0))
    j = fma32(fma32(p1, u, p2), u, p3)
    with np.errstate(invalid='ignore', over='ignore'):
        res = np.ldexp(j, np.nan_to_num(n, nan=0, posinf=0, neginf=0).astype(np.int64)).astype(f32)
        d = np.abs(n) > 192
        alt = np.where(n <= 0, f32(0), f32(np.inf)).astype(f32)
    return np.where(d, alt, res).astype(f32)
def softmax_exact(kq, mask, scale=f32(0.125)):  # kq (..., 256) rows
    wp = r32(r32(kq * scale) + mask)
    mx = wp.max(axis=-1, keepdims=True)
    e = v_expf(r32(wp - mx))
    sh = e.shape[:-1] + (e.shape[-1] // 16, 16)
    parts = reduce_add16(e.reshape(sh)).astype(np.float64)
    s = np.zeros(parts.shape[:-1])
    for k in range(parts.shape[-1]): s = s + parts[..., k]
    inv = (1.0 / s).astype(f32)
    return r32(e * inv[..., None])
def swiglu_exact(g, u):
    return r32(r32(g / r32(f32(1) + v_expf(r32(-g)))) * u)
