import numpy as np, sys
from exact import *
def neq(tag, a, b): print('%-14s mismatches %d / %d  maxabs %.3e' % (tag, (a != b).sum(), a.size, np.abs(a - b).max()))
pos = list(range(5))
for L in [int(a) for a in sys.argv[1:]]:
    print('--- layer', L)
    Q = get('Qcur-%d' % L, 'MUL_MAT').reshape(5, 9, 64); Qr = get('Qcur-%d' % L, 'ROPE')
    for v in ('plain', 'fma1', 'fma2'): neq('rope ' + v, rope_exact(Q, pos, v), Qr)
    Kr = get('Kcur-%d' % L, 'ROPE'); V = get('Vcur-%d' % L, 'MUL_MAT').reshape(5, 3, 64)
    kq = get('kq-%d' % L)  # (9, 5, 256)
    Kc = np.zeros((3, 256, 64), f32); Kc[:, :5] = Kr.astype(f16).astype(f32).transpose(1, 0, 2)
    Qh = Qr.astype(f16).astype(f32).transpose(1, 0, 2)  # (9,5,64)
    mykq = tinyblas_f16_dot(Kc[[h // 3 for h in range(9)]], Qh)
    neq('kq tinyblas', mykq, kq)
    mask = np.full((5, 256), -np.inf, f32)
    for i in range(5): mask[i, :i + 1] = 0
    sm = get('kq_soft_max-%d' % L)
    neq('softmax', softmax_exact(kq, mask[None]), sm)
    kqv = get('kqv-%d' % L)  # (9,5,64)
    Vt = np.zeros((3, 64, 256), f32); Vt[:, :, :5] = V.astype(f16).astype(f32).transpose(1, 2, 0)
    neq('kqv tinyblas', tinyblas_f16_dot(Vt[[h // 3 for h in range(9)]], sm.astype(f16).astype(f32)), kqv)
    neq('swiglu', swiglu_exact(get('ffn_gate-%d' % L), get('ffn_up-%d' % L)), get('ffn_swiglu-%d' % L))
