import numpy as np
from exact import *
from exact import _libm
_libm.powf.restype = ctypes.c_float; _libm.powf.argtypes = [ctypes.c_float, ctypes.c_float]
print('np theta_scale', repr(f32(np.power(f32(100000.0), f32(-2.0)/f32(64)))), 'powf', repr(f32(_libm.powf(100000.0, float(f32(-2.0)/f32(64))))))
Q = get('Qcur-0', 'MUL_MAT').reshape(5, 9, 64); Qr = get('Qcur-0', 'ROPE')
my = rope_exact(Q, range(5), 'plain')
for p in range(5): print(p, (my[p] != Qr[p]).sum(axis=0).reshape(32, 2).sum(1))
# infer llama's cos/sin from output: for pair (x0,x1)->(y0,y1) solve c,s by least squares across heads
p = 3
x0 = Q[p, :, 0::2].astype(np.float64); x1 = Q[p, :, 1::2].astype(np.float64); y0 = Qr[p, :, 0::2]; y1 = Qr[p, :, 1::2]
c_est = (x0 * y0 + x1 * y1).sum(0) / (x0**2 + x1**2).sum(0); s_est = (x0 * y1 - x1 * y0).sum(0) / (x0**2 + x1**2).sum(0)
c, s = rope_cache(p)
print('c diff', (c_est - c)[:12]); print('s diff', (s_est - s)[:12])
