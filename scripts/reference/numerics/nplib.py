# Shared by the numerics scripts: the GGUF's tensors, Baton-spec ops in numpy, and the loader
# for dump.c's tensor dumps.
#   BATON_MODEL     the GGUF (default: the model cache's SmolLM2)
#   NUMERICS_DUMP   dump.c's output folder (default: dump/ beside this file)
import os, sys, numpy as np
try:
    import gguf
except ImportError:  # llama.cpp's own gguf-py, from the source scripts/build-llama-bench.sh unpacks
    sys.path.insert(0, os.path.expanduser('~/.cache/baton/llama.cpp-0.3.36/src/gguf-py'))
    import gguf
f32, f16 = np.float32, np.float16
MODEL = os.environ.get('BATON_MODEL') or os.path.join(
    os.environ.get('BATON_HOME', os.path.expanduser('~/.cache/baton')), 'models', 'SmolLM2-135M-Instruct.Q4_1.gguf')
R = gguf.GGUFReader(MODEL)
T = {t.name: t for t in R.tensors}

def q41(name):
    raw = T[name].data  # (rows, nblk*20)
    rows = raw.shape[0]; b = raw.reshape(rows, -1, 20)
    d = b[:, :, 0:2].copy().view(f16)[..., 0].astype(f32)
    m = b[:, :, 2:4].copy().view(f16)[..., 0].astype(f32)
    qs = b[:, :, 4:20]
    q = np.concatenate([qs & 0xF, qs >> 4], axis=2).astype(f32)  # rows,nb,32
    return d, m, q
def q80(name):
    raw = T[name].data; rows = raw.shape[0]; b = raw.reshape(rows, -1, 34)
    d = b[:, :, 0:2].copy().view(f16)[..., 0].astype(f32)
    q = b[:, :, 2:34].copy().view(np.int8).astype(f32)
    return d, q
def vec(name): return np.array(T[name].data, dtype=f32)

def quant_q8(x):  # x: (n, K) f32 -> d16 (n,nb), q (n,nb,32), s16 (n,nb)
    n, K = x.shape; xb = x.reshape(n, K // 32, 32).astype(f32)
    amax = np.abs(xb).max(axis=2)
    d = (amax / f32(127)).astype(f32)
    with np.errstate(divide='ignore'):
        idd = np.where(amax != 0, f32(127) / amax, f32(0)).astype(f32)
    q = np.rint(xb * idd[..., None]).astype(f32)
    s = (d * q.sum(axis=2).astype(f32)).astype(f16).astype(f32)
    return d.astype(f16).astype(f32), q, s

def mm_q41(wname, x):  # x (n,K) -> (n, rows)
    dw, mw, qw = q41(wname)
    dx, qx, sx = quant_q8(x)
    sumi = np.einsum('rbk,nbk->nrb', qw.astype(np.float64), qx.astype(np.float64))  # exact integers
    out = (dw[None] * dx[:, None, :]).astype(f32) * sumi.astype(f32) + mw[None] * sx[:, None, :]
    return out.astype(np.float64).sum(axis=2).astype(f32)
def mm_q80(wname, x, rows=None):
    dw, qw = q80(wname)
    if rows is not None: dw, qw = dw[rows], qw[rows]
    dx, qx, _ = quant_q8(x)
    sumi = np.einsum('rbk,nbk->nrb', qw.astype(np.float64), qx.astype(np.float64))
    out = (dw[None] * dx[:, None, :]).astype(f32) * sumi.astype(f32)
    return out.astype(np.float64).sum(axis=2).astype(f32)
def embd(ids):
    d, q = q80('token_embd.weight'); return (d[ids][..., None] * q[ids]).reshape(len(ids), -1).astype(f32)
def rmsnorm(x, w, eps=1e-5):
    ms = (x.astype(np.float64) ** 2).mean(axis=1)
    sc = (f32(1) / np.sqrt((ms.astype(f32) + f32(eps)).astype(f32))).astype(f32)
    return ((x * sc[:, None]).astype(f32) * w[None]).astype(f32)
def rope(x, pos, nd=64, base=100000.0):  # x (n, heads, 64)
    scale = np.float32(np.power(np.float32(base), np.float32(-2.0 / nd)))
    out = x.copy()
    for i, p in enumerate(pos):
        th = np.float32(p)
        for j in range(nd // 2):
            c, s = np.float32(np.cos(th)), np.float32(np.sin(th))
            a, b = x[i, :, 2*j], x[i, :, 2*j+1]
            out[i, :, 2*j] = a*c - b*s; out[i, :, 2*j+1] = a*s + b*c
            th = np.float32(th * scale)
    return out
def silu(x): return (x / (f32(1) + np.exp(-x.astype(np.float64)))).astype(f32)

# dump loader
D = os.environ.get('NUMERICS_DUMP') or os.path.join(os.path.dirname(os.path.abspath(__file__)), 'dump')
def load_index(d=D):
    idx = []
    for line in open(d + '/index.tsv'):
        c, name, typ, op, ne, nb, s0, s1 = line.rstrip('\n').split('\t')
        idx.append(dict(i=int(c), name=name, type=typ, op=op, ne=[int(v) for v in ne.split(',')], nb=[int(v) for v in nb.split(',')], s0=s0, s1=s1))
    return idx
def load(e, d=D):
    raw = np.fromfile('%s/%04d.bin' % (d, e['i']), dtype=np.uint8)
    dt = {'f32': f32, 'f16': f16}[e['type']]
    arr = raw.view(dt)
    es = np.dtype(dt).itemsize
    shape = e['ne'][::-1]; strides = e['nb'][::-1]
    a = np.lib.stride_tricks.as_strided(arr, shape=shape, strides=strides).astype(f32).copy()
    while a.ndim > 2 and a.shape[0] == 1: a = a[0]
    return a

_byname = None
def get(name, op=None, k=-1):
    """The k-th dumped tensor called `name` (optionally from op `op`)."""
    global _byname
    if _byname is None:
        _byname = {}
        for e in load_index(): _byname.setdefault(e['name'], []).append(e)
    return load([e for e in _byname[name] if op is None or e['op'] == op][k])
