# op-by-op local comparison: feed llama.cpp's dumped inputs into numpy Baton-spec op, compare to llama.cpp output
import numpy as np, sys
from nplib import *
def err(tag, a, b):
    a = a.reshape(-1).astype(np.float64); b = b.reshape(-1).astype(np.float64)
    d = np.abs(a - b); rel = d.max() / (np.abs(b).max() + 1e-30)
    print('%-22s maxabs %.3e  maxrel(vs max) %.3e  rms %.3e' % (tag, d.max(), rel, np.sqrt((d**2).mean()) / (np.sqrt((b**2).mean()) + 1e-30)))
toks = [504, 3575, 282, 4649, 314]; pos = list(range(5))
err('embd', embd(toks), get('embd'))
layers = [int(a) for a in sys.argv[1:]] or [0, 1, 15, 29]
for L in layers:
    print('--- layer', L)
    xin = get('embd') if L == 0 else get('l_out-%d' % (L - 1))
    an = get('attn_norm-%d' % L)
    err('attn_norm', rmsnorm(xin, vec('blk.%d.attn_norm.weight' % L)), an)
    n = an.shape[0]
    Q = get('Qcur-%d' % L, 'MUL_MAT'); K = get('Kcur-%d' % L, 'MUL_MAT'); V = get('Vcur-%d' % L, 'MUL_MAT')
    err('Qmm', mm_q41('blk.%d.attn_q.weight' % L, an), Q)
    err('Kmm', mm_q41('blk.%d.attn_k.weight' % L, an), K)
    err('Vmm', mm_q41('blk.%d.attn_v.weight' % L, an), V)
    Qr = get('Qcur-%d' % L, 'ROPE'); Kr = get('Kcur-%d' % L, 'ROPE')
    err('Qrope', rope(Q.reshape(n, 9, 64), pos[:n] if L < 29 else pos), Qr)
    err('Krope', rope(K.reshape(n, 3, 64), pos), Kr)
    kq = get('kq-%d' % L)  # (9, n, 256)
    kf = Kr.astype(f16).astype(np.float64); qf = Qr.astype(f16).astype(np.float64)
    mykq = np.zeros((9, Qr.shape[0], 5))
    for h in range(9):
        mykq[h] = qf[:, h, :] @ kf[:, h // 3, :].T
    err('kq', mykq, kq[:, :, :5])
    # also compare with f32 q
    mykq32 = np.zeros_like(mykq)
    for h in range(9): mykq32[h] = Qr[:, h, :].astype(np.float64) @ kf[:, h // 3, :].T
    err('kq(q f32)', mykq32, kq[:, :, :5])
    sm = get('kq_soft_max-%d' % L)
    nq = sm.shape[1]
    mysm = np.zeros((9, nq, 5), dtype=f32)
    qpos = list(range(5 - nq, 5))
    for h in range(9):
        for i in range(nq):
            s = kq[h, i, :qpos[i] + 1] * f32(0.125)
            e_ = np.exp((s - s.max()).astype(np.float64)); mysm[h, i, :qpos[i] + 1] = (e_ / e_.sum()).astype(f32)
    err('softmax', mysm, sm[:, :, :5]); print('   softmax tail nonzero:', np.abs(sm[:, :, 5:]).max())
    kqv = get('kqv-%d' % L)  # (9, n, 64)
    vf = V.reshape(5, 3, 64).astype(f16).astype(np.float64)
    mykqv = np.zeros((9, nq, 64))
    for h in range(9): mykqv[h] = sm[h, :, :5].astype(f16).astype(np.float64) @ vf[:, h // 3, :]
    err('kqv', mykqv, kqv)
    mykqv2 = np.zeros((9, nq, 64))
    for h in range(9): mykqv2[h] = sm[h, :, :5].astype(np.float64) @ vf[:, h // 3, :]
    err('kqv(p f32)', mykqv2, kqv)
    ko = get('kqv_out-%d' % L)
    ao = get('attn_out-%d' % L)
    err('attn_out', mm_q41('blk.%d.attn_output.weight' % L, ko), ao)
    fi = get('ffn_inp-%d' % L)
    fn = get('ffn_norm-%d' % L)
    err('ffn_norm', rmsnorm(fi, vec('blk.%d.ffn_norm.weight' % L)), fn)
    g = get('ffn_gate-%d' % L); u = get('ffn_up-%d' % L)
    err('gate', mm_q41('blk.%d.ffn_gate.weight' % L, fn), g)
    err('up', mm_q41('blk.%d.ffn_up.weight' % L, fn), u)
    sw = get('ffn_swiglu-%d' % L)
    err('swiglu', (silu(g) * u).astype(f32), sw)
    fo = get('ffn_out-%d' % L)
    err('down', mm_q41('blk.%d.ffn_down.weight' % L, sw), fo)
    err('l_out', (fo + fi).astype(f32), get('l_out-%d' % L))
rn = get('result_norm')
err('result_norm', rmsnorm(get('l_out-29'), vec('output_norm.weight')), rn)
lg = get('result_output')
err('logits', mm_q80('token_embd.weight', rn), lg)
