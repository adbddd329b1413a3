import numpy as np, sys
from exact import *
def neq(tag, a, b): print('%-12s mismatches %d / %d  maxabs %.3e' % (tag, (a != b).sum(), a.size, np.abs(a - b).max()))
for L in [int(a) for a in sys.argv[1:]]:
    an = get('attn_norm-%d' % L); xin = get('embd') if L == 0 else get('l_out-%d' % (L - 1))
    neq('attn_norm', rmsnorm_exact(xin, vec('blk.%d.attn_norm.weight' % L)), an)
    for fmaflag in (False, True):
        neq('Q fma=%d' % fmaflag, mm_q41_exact('blk.%d.attn_q.weight' % L, an, fmaflag), get('Qcur-%d' % L, 'MUL_MAT'))
    neq('K', mm_q41_exact('blk.%d.attn_k.weight' % L, an), get('Kcur-%d' % L, 'MUL_MAT'))
    neq('attn_out', mm_q41_exact('blk.%d.attn_output.weight' % L, get('kqv_out-%d' % L)), get('attn_out-%d' % L))
    fn = get('ffn_norm-%d' % L)
    neq('ffn_norm', rmsnorm_exact(get('ffn_inp-%d' % L), vec('blk.%d.ffn_norm.weight' % L)), fn)
    neq('gate', mm_q41_exact('blk.%d.ffn_gate.weight' % L, fn), get('ffn_gate-%d' % L))
    neq('down', mm_q41_exact('blk.%d.ffn_down.weight' % L, get('ffn_swiglu-%d' % L)), get('ffn_out-%d' % L))
