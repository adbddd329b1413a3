# end-to-end numpy implementation of Baton's described numerics; compares with llama.cpp dumps per layer
import numpy as np, sys
from nplib import *
toks = [504, 3575, 282, 4649, 314]; n = 5; pos = list(range(5))
def attn(L, an, save):
    Q = mm_q41('blk.%d.attn_q.weight' % L, an); K = mm_q41('blk.%d.attn_k.weight' % L, an); V = mm_q41('blk.%d.attn_v.weight' % L, an)
    Qr = rope(Q.reshape(n, 9, 64), pos); Kr = rope(K.reshape(n, 3, 64), pos)
    qf = Qr.astype(f16).astype(np.float64); kf = Kr.astype(f16).astype(np.float64); vf = V.reshape(n, 3, 64).astype(f16).astype(np.float64)
    out = np.zeros((n, 9, 64), dtype=f32)
    for h in range(9):
        s = (qf[:, h, :] @ kf[:, h // 3, :].T).astype(f32) * f32(0.125)
        for i in range(n):
            r = s[i, :i + 1]; e_ = np.exp((r - r.max()).astype(np.float64)); p = (e_ / e_.sum()).astype(f32)
            out[i, h] = (p.astype(f16).astype(np.float64) @ vf[:i + 1, h // 3, :]).astype(f32)
    save['Qrope'] = Qr; save['Krope'] = Kr
    return out.reshape(n, 576)
def rel(a, b): return np.abs(a - b).max() / np.abs(b).max()
x = embd(toks)
for L in range(30):
    sv = {}
    an = rmsnorm(x, vec('blk.%d.attn_norm.weight' % L))
    att = attn(L, an, sv)
    ko = get('kqv_out-%d' % L)
    x = (x + mm_q41('blk.%d.attn_output.weight' % L, att)).astype(f32)
    fn = rmsnorm(x, vec('blk.%d.ffn_norm.weight' % L))
    g = mm_q41('blk.%d.ffn_gate.weight' % L, fn); u = mm_q41('blk.%d.ffn_up.weight' % L, fn)
    x = (x + mm_q41('blk.%d.ffn_down.weight' % L, (silu(g) * u).astype(f32))).astype(f32)
    lo = get('l_out-%d' % L)
    print('L%2d attn_norm %.2e Qrope %.2e kqv_out %.2e l_out(last row) %.2e' % (L, rel(an, get('attn_norm-%d' % L)), rel(sv['Qrope'], get('Qcur-%d' % L, 'ROPE')), rel(att, ko), rel(x[-1:], lo[-1:])))
rn = rmsnorm(x[-1:], vec('output_norm.weight'))
lg = mm_q80('token_embd.weight', rn)[0]
ref = np.fromfile(D + '/logits.bin', dtype=f32)
ids = [7042, 260, 4528, 1315, 5145]
print('numpy  ', lg[ids]); print('llama  ', ref[ids]); print('max |dlogit|', np.abs(lg - ref).max())
np.save(D + '/np_logits.npy', lg)
