// The batched-decode matmul with vpdpbusd (see include/BatonKernelsC.h). Built with
// -ffp-contract=off: every rounding below is an explicit intrinsic, as in the Swift kernels.
//
// Per block, a row's 32 weight bytes are in ggml's element order (Q4: the 16 low nibbles are
// elements 0..15, the high ones 16..31), the activation's 32 quants likewise, so dpbusd's
// 32-bit lane j is the exact integer sum of the products of elements 4j..4j+3: the lane the
// Swift kernels and ggml form.
//   Q4_1:       dpbusd(0, nibbles (u8), q (s8)).
//   Q4_0, Q8_0: the weights are signed; the activations are stored biased, q + 128 (u8, q is
//               in [-127, 127]), and the accumulator starts at -128 * sum(w) of the lane:
//               dpbusd(-128 sum w, q + 128, w) = sum q w, exactly (int32, no saturation).
// Then lane = f32(int), acc = fma(d_w * d_x, lane, acc) with d_w * d_x rounded to f32 first.
//
// Each quad of weight rows is decoded once per call into a per-thread panel (L1), the next
// quad prefetched meanwhile, and applied to the tokens in groups of 4: one ymm accumulator per
// (row, token); d_w * d_x of the 16 (token, row) pairs of a block by one zmm multiply into a
// table, read back as embedded broadcasts by the FMAs.
#include "BatonKernelsC.h"
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#define INLINE static inline __attribute__((always_inline))

enum { Q4_1 = 0, Q4_0 = 1, Q8_0 = 2 };

INLINE uint32_t load_u32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

/// The weights of one block of rows a and b as a pair: [a | b], 32 bytes each.
INLINE __m512i pair_weights(int type, const uint8_t *a, const uint8_t *b) {
    if (type == Q8_0) {
        __m256i wa = _mm256_loadu_si256((const __m256i *)(a + 2));
        __m256i wb = _mm256_loadu_si256((const __m256i *)(b + 2));
        return _mm512_inserti64x4(_mm512_castsi256_si512(wa), wb, 1);
    }
    int off = type == Q4_1 ? 4 : 2;
    __m256i qa = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(a + off)));
    __m256i qb = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(b + off)));
    __m512i z = _mm512_inserti64x4(_mm512_castsi256_si512(qa), qb, 1);   // [qa qa qb qb]
    __m512i hi = _mm512_srli_epi16(z, 4);
    z = _mm512_mask_blend_epi64(0xCC, z, hi);                              // [lo hi lo hi]
    z = _mm512_and_si512(z, _mm512_set1_epi8(0x0F));
    if (type == Q4_0) z = _mm512_sub_epi8(z, _mm512_set1_epi8(8));
    return z;
}

/// One block of a decoded quad (four weight rows a, b, c, d): the weight bytes (32 per row),
/// for Q4_0 / Q8_0 the accumulator start -128 sum(w) per lane (8 per row), and the rows' f32
/// scales d_w and minimums m_w, each as [a b c d] four times (matching four tokens' d_x, s_x).
typedef struct {
    __m512i w01, w23;
    __m512i init01, init23;
    __m512 d16, m16;
} QuadBlock;

/// Per-thread storage: one decoded quad (decoded once, applied to every token; 384 bytes per
/// block, in L1), the products d_w * d_x of one token group, and the tokens' d_x and s_x
/// repeated four times per token ([blk][token][4]).
static __thread QuadBlock *panel;
static __thread float *products;
static __thread float *dxE, *sxE;
static __thread long panelBlocks, tokenCap;

INLINE void decode_quad(const int type, const uint8_t *const rows[4], long nb) {
    const long bb = type == Q4_1 ? 20 : type == Q4_0 ? 18 : 34;
    const __m512i idxd = _mm512_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6, 0, 2, 4, 6, 0, 2, 4, 6);
    const __m512i idxm = _mm512_setr_epi32(1, 3, 5, 7, 1, 3, 5, 7, 1, 3, 5, 7, 1, 3, 5, 7);
    const uint8_t *pa = rows[0], *pb = rows[1], *pc = rows[2], *pd = rows[3];
    for (long blk = 0; blk < nb; blk++) {
        QuadBlock *qb = panel + blk;
        __m512i w0 = pair_weights(type, pa, pb), w1 = pair_weights(type, pc, pd);
        qb->w01 = w0;
        qb->w23 = w1;
        __m128i h = _mm_setr_epi32((int)load_u32(pa), (int)load_u32(pb), (int)load_u32(pc), (int)load_u32(pd));
        __m512 f5 = _mm512_castps256_ps512(_mm256_cvtph_ps(h));   // d_a m_a d_b m_b d_c m_c d_d m_d (exact)
        qb->d16 = _mm512_permutexvar_ps(idxd, f5);
        if (type == Q4_1) {
            qb->m16 = _mm512_permutexvar_ps(idxm, f5);
        } else {
            const __m512i b128 = _mm512_set1_epi8((char)0x80), zero = _mm512_setzero_si512();
            qb->init01 = _mm512_sub_epi32(zero, _mm512_dpbusd_epi32(zero, b128, w0));
            qb->init23 = _mm512_sub_epi32(zero, _mm512_dpbusd_epi32(zero, b128, w1));
        }
        pa += bb; pb += bb; pc += bb; pd += bb;
    }
}

/// NT (1..4) tokens (the group starting at token g of the call) against the decoded quad; only
/// `valid` outputs are stored. Each (row, token) has its own 8-lane accumulator; its scale
/// d_w * d_x comes from `products` as an embedded broadcast.
INLINE void quad_tokens(
    const int type, const int NT, long k, long g, long tokens,
    const int8_t *q, long qStride,
    float *out, long n, int valid, int accumulate, const uint8_t *const *next)
{
    const long nb = k / 32;
    const long bb = type == Q4_1 ? 20 : type == Q4_0 ? 18 : 34;
    const long tstride = tokens * 4;
    // Pass 1: the scales d_w * d_x of the 16 (token, row) pairs per block, and the summs.
    __m512 mins = _mm512_setzero_ps();
    for (long blk = 0; blk < nb; blk++) {
        const QuadBlock *qb = panel + blk;
        __m512 dx = _mm512_loadu_ps(dxE + blk * tstride + g * 4);
        _mm512_store_ps(products + 16 * blk, _mm512_mul_ps(qb->d16, dx));
        if (type == Q4_1) mins = _mm512_fmadd_ps(qb->m16, _mm512_loadu_ps(sxE + blk * tstride + g * 4), mins);
    }
    // Pass 2: the lanes.
    __m256 acc[4][4];
    for (int t = 0; t < NT; t++) for (int r = 0; r < 4; r++) acc[t][r] = _mm256_setzero_ps();
    for (long blk = 0; blk < nb; blk++) {
        const QuadBlock *qb = panel + blk;
        if (next) {   // the next quad's weights, while this one computes
            for (int i = 0; i < 4; i++) _mm_prefetch((const char *)next[i] + blk * bb, _MM_HINT_T0);
        }
        const __m256i *wv = (const __m256i *)&qb->w01;
        const __m256i *iv = (const __m256i *)&qb->init01;
        __m256i w[4], init[4];
        for (int r = 0; r < 4; r++) {
            w[r] = _mm256_load_si256(wv + r);
            init[r] = type == Q4_1 ? _mm256_setzero_si256() : _mm256_load_si256(iv + r);
        }
        const float *p = products + 16 * blk;
        for (int t = 0; t < NT; t++) {
            __m256i x = _mm256_loadu_si256((const __m256i *)(q + t * qStride + 32 * blk));
            for (int r = 0; r < 4; r++) {
                __m256i l = type == Q4_1 ? _mm256_dpbusd_epi32(init[r], w[r], x) : _mm256_dpbusd_epi32(init[r], x, w[r]);
                acc[t][r] = _mm256_fmadd_ps(_mm256_set1_ps(p[4 * t + r]), _mm256_cvtepi32_ps(l), acc[t][r]);
            }
        }
    }
    float mm[16];
    _mm512_storeu_ps(mm, mins);
    for (int t = 0; t < NT; t++) {
        float v[4];
        for (int r = 0; r < 4; r++) {
            float l[8];
            _mm256_storeu_ps(l, acc[t][r]);
            float a0 = l[4] + l[0], a1 = l[5] + l[1], a2 = l[6] + l[2], a3 = l[7] + l[3];
            v[r] = (a0 + a2) + (a1 + a3);
            if (type == Q4_1) v[r] = v[r] + mm[4 * t + r];
        }
        float *o = out + t * n;
        for (int i = 0; i < valid; i++) o[i] = accumulate ? o[i] + v[i] : v[i];
    }
}

/// The wide form (Intel, where a zmm operation costs what a ymm one does): two tokens per zmm,
/// token 2p in the low 8 lanes and 2p + 1 in the high 8, so one vpdpbusd, conversion and FMA do
/// two (row, token) pairs' work. Each half is exactly the 8-lane accumulator of quad_tokens, the
/// same operations in the same order; only the scale needs one more operation, d_x of the pair
/// times d_w of the row, the same product (multiplication commutes). Token pairs' quants are
/// interleaved per block (pairQ: [pair][blk][64 bytes]) and their d_x spread (pairD:
/// [blk][pair][16]) once per call.
static __thread int8_t *pairQ;
static __thread float *pairD;
static __thread long pairCap;

/// NP (1..4) token pairs starting at pair p0 (tokens 2 p0 ...; the group's first token g), of
/// which the first ntok tokens are stored.
INLINE void quad_pairs(
    const int type, const int NP, long k, long p0, long pairs, long g, long tokens,
    float *out, long n, int valid, int ntok, int accumulate, const uint8_t *const *next)
{
    const long nb = k / 32;
    const long bb = type == Q4_1 ? 20 : type == Q4_0 ? 18 : 34;
    const long tstride = tokens * 4;
    __m512 mins[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
    if (type == Q4_1) {
        for (long blk = 0; blk < nb; blk++) {
            const QuadBlock *qb = panel + blk;
            for (int h = 0; h < (NP + 1) / 2; h++)
                mins[h] = _mm512_fmadd_ps(qb->m16, _mm512_loadu_ps(sxE + blk * tstride + (g + 4 * h) * 4), mins[h]);
        }
    }
    __m512 acc[4][4];
    for (int p = 0; p < NP; p++) for (int r = 0; r < 4; r++) acc[p][r] = _mm512_setzero_ps();
    for (long blk = 0; blk < nb; blk++) {
        const QuadBlock *qb = panel + blk;
        if (next) {
            for (int i = 0; i < 4; i++) _mm_prefetch((const char *)next[i] + blk * bb, _MM_HINT_T0);
        }
        const __m256i *wv = (const __m256i *)&qb->w01;
        const __m256i *iv = (const __m256i *)&qb->init01;
        const float *d = (const float *)&qb->d16;
        __m512i w[4], init[4];
        for (int r = 0; r < 4; r++) {
            w[r] = _mm512_broadcast_i64x4(_mm256_load_si256(wv + r));
            init[r] = type == Q4_1 ? _mm512_setzero_si512() : _mm512_broadcast_i64x4(_mm256_load_si256(iv + r));
        }
        for (int p = 0; p < NP; p++) {
            __m512i x = _mm512_load_si512((const void *)(pairQ + ((p0 + p) * nb + blk) * 64));
            __m512 dx = _mm512_load_ps(pairD + (blk * pairs + p0 + p) * 16);
            for (int r = 0; r < 4; r++) {
                __m512i l = type == Q4_1 ? _mm512_dpbusd_epi32(init[r], w[r], x) : _mm512_dpbusd_epi32(init[r], x, w[r]);
                __m512 s = _mm512_mul_ps(dx, _mm512_set1_ps(d[r]));
                acc[p][r] = _mm512_fmadd_ps(s, _mm512_cvtepi32_ps(l), acc[p][r]);
            }
        }
    }
    // quad_tokens' reduction of each half: (l0 + l4), ...; then (a0 + a2) + (a1 + a3).
    float mm[32];
    _mm512_storeu_ps(mm, mins[0]);
    _mm512_storeu_ps(mm + 16, mins[1]);
    for (int p = 0; p < NP; p++) {
        float v[2][4];
        for (int r = 0; r < 4; r++) {
            __m512 a = acc[p][r];
            a = _mm512_add_ps(a, _mm512_shuffle_f32x4(a, a, _MM_SHUFFLE(2, 3, 0, 1)));
            a = _mm512_add_ps(a, _mm512_permute_ps(a, _MM_SHUFFLE(1, 0, 3, 2)));
            a = _mm512_add_ps(a, _mm512_permute_ps(a, _MM_SHUFFLE(2, 3, 0, 1)));
            float l[16];
            _mm512_storeu_ps(l, a);
            v[0][r] = l[0];
            v[1][r] = l[8];
        }
        for (int h = 0; h < 2; h++) {
            int t = 2 * p + h;
            if (t >= ntok) break;
            float *o = out + t * n;
            for (int i = 0; i < valid; i++) {
                float y = type == Q4_1 ? v[h][i] + mm[4 * t + i] : v[h][i];
                o[i] = accumulate ? o[i] + y : y;
            }
        }
    }
}

#define NP_MAX 2

#define NT_MAX 4

INLINE void run_type(
    const int type, const uint8_t *w, long rowBytes, long k,
    const int8_t *q, long qStride,
    long t0, long t1, float *out, long n, long r0, long r1, long rLimit, int accumulate, int wide)
{
    const long nb = k / 32, tokens = t1 - t0, pairs = (tokens + 1) / 2;
    for (long r = r0; r < r1; r += 4) {
        long last = r1 - 1;
        int valid = (int)(r1 - r < 4 ? r1 - r : 4);
        const uint8_t *rows[4];
        for (int i = 0; i < 4; i++) rows[i] = w + (r + i <= last ? r + i : last) * rowBytes;
        decode_quad(type, rows, nb);
        // The next quad, prefetched meanwhile: this call's, or past r1 up to rLimit (the rows
        // the calling thread is likely to take next).
        const uint8_t *nextRows[4];
        const long nextLast = rLimit - 1;
        for (int i = 0; i < 4; i++) nextRows[i] = w + (r + 4 + i <= nextLast ? r + 4 + i : nextLast) * rowBytes;
        const uint8_t *const *next = r + 4 < rLimit ? nextRows : NULL;
        if (wide) {
            float *o = out + t0 * n + r;
            long p = 0;
            for (; p + NP_MAX <= pairs; p += NP_MAX) {
                int ntok = (int)(tokens - 2 * p < 2 * NP_MAX ? tokens - 2 * p : 2 * NP_MAX);
                quad_pairs(type, NP_MAX, k, p, pairs, 2 * p, tokens, o + 2 * p * n, n, valid, ntok, accumulate, next);
                next = NULL;
            }
            if (p < pairs)
                quad_pairs(type, 1, k, p, pairs, 2 * p, tokens, o + 2 * p * n, n, valid, (int)(tokens - 2 * p), accumulate, next);
            continue;
        }
        long g = 0;
        for (; g + NT_MAX <= tokens; g += NT_MAX) {
            quad_tokens(type, NT_MAX, k, g, tokens, q + (t0 + g) * qStride, qStride, out + (t0 + g) * n + r, n, valid, accumulate, next);
            next = NULL;
        }
        switch (tokens - g) {
        case 3: quad_tokens(type, 3, k, g, tokens, q + (t0 + g) * qStride, qStride, out + (t0 + g) * n + r, n, valid, accumulate, next); break;
        case 2: quad_tokens(type, 2, k, g, tokens, q + (t0 + g) * qStride, qStride, out + (t0 + g) * n + r, n, valid, accumulate, next); break;
        case 1: quad_tokens(type, 1, k, g, tokens, q + (t0 + g) * qStride, qStride, out + (t0 + g) * n + r, n, valid, accumulate, next); break;
        default: break;
        }
    }
}

void baton_vnni_prepare(
    int type, long k, const int8_t *q, long qStride, const float *xf, long xStride, long t0, long t1, int wide)
{
    const long nb = k / 32, tokens = t1 - t0;
    // Padded to a multiple of 4 tokens plus one group: the 16-float loads of a tail group stay inside.
    const long tpad = (tokens + 3) / 4 * 4 + 4;
    if (panelBlocks < nb || tokenCap < tpad) {
        long blocks = panelBlocks > nb ? panelBlocks : nb, cap = tokenCap > tpad ? tokenCap : tpad;
        free(panel); free(products); free(dxE); free(sxE);
        panel = aligned_alloc(64, (size_t)blocks * sizeof(QuadBlock));
        products = aligned_alloc(64, (size_t)blocks * 64);
        size_t e = ((size_t)blocks * cap * 16 + 63) / 64 * 64;
        dxE = aligned_alloc(64, e);
        sxE = aligned_alloc(64, e);
        panelBlocks = blocks;
        tokenCap = cap;
    }
    // d_x and s_x of every token, repeated four times: [blk][token][4] (row stride tokens * 4).
    for (long blk = 0; blk < nb; blk++) {
        float *de = dxE + blk * tokens * 4, *se = sxE + blk * tokens * 4;
        for (long i = 0; i < tokens; i++) {
            const float *xt = xf + (t0 + i) * xStride;
            __m128 d = _mm_set1_ps(xt[k + blk]);
            _mm_storeu_ps(de + 4 * i, d);
            if (type == Q4_1) _mm_storeu_ps(se + 4 * i, _mm_set1_ps(xt[k + nb + blk]));
        }
    }
    if (wide) {
        // Token pairs: quants interleaved per block, d_x spread over each half.
        const long pairs = (tokens + 1) / 2;
        if (pairCap < pairs * nb) {
            free(pairQ); free(pairD);
            pairQ = aligned_alloc(64, (size_t)pairs * nb * 64);
            pairD = aligned_alloc(64, (size_t)pairs * nb * 64);
            pairCap = pairs * nb;
        }
        for (long p = 0; p < pairs; p++) {
            long ta = t0 + 2 * p, tb = 2 * p + 1 < tokens ? ta + 1 : ta;
            for (long blk = 0; blk < nb; blk++) {
                memcpy(pairQ + (p * nb + blk) * 64, q + ta * qStride + 32 * blk, 32);
                memcpy(pairQ + (p * nb + blk) * 64 + 32, q + tb * qStride + 32 * blk, 32);
                __m512 d = _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_set1_ps(xf[ta * xStride + k + blk])),
                                                                 _mm256_castps_pd(_mm256_set1_ps(xf[tb * xStride + k + blk])), 1));
                _mm512_store_ps(pairD + (blk * pairs + p) * 16, d);
            }
        }
    }
}

void baton_vnni_rows(
    int type, const void *w, long rowBytes, long k, const int8_t *q, long qStride,
    long t0, long t1, float *out, long n, long r0, long r1, long rLimit, int accumulate, int wide)
{
    const uint8_t *wb = (const uint8_t *)w;
    if (rLimit < r1) rLimit = r1;
    if (rLimit > n) rLimit = n;
    switch (type) {
    case Q4_1: run_type(Q4_1, wb, rowBytes, k, q, qStride, t0, t1, out, n, r0, r1, rLimit, accumulate, wide); break;
    case Q4_0: run_type(Q4_0, wb, rowBytes, k, q, qStride, t0, t1, out, n, r0, r1, rLimit, accumulate, wide); break;
    default:   run_type(Q8_0, wb, rowBytes, k, q, qStride, t0, t1, out, n, r0, r1, rLimit, accumulate, wide); break;
    }
}

void baton_vnni_batched_gemv(
    int type, const void *w, long rowBytes, long k,
    const int8_t *q, long qStride, const float *xf, long xStride,
    long t0, long t1, float *out, long n, long r0, long r1, int accumulate, int wide)
{
    baton_vnni_prepare(type, k, q, qStride, xf, xStride, t0, t1, wide);
    baton_vnni_rows(type, w, rowBytes, k, q, qStride, t0, t1, out, n, r0, r1, r1, accumulate, wide);
}

long baton_claim_front(uint64_t *range) {
    uint64_t cur = __atomic_load_n(range, __ATOMIC_ACQUIRE);
    for (;;) {
        uint32_t front = (uint32_t)cur, back = (uint32_t)(cur >> 32);
        if (front >= back) return -1;
        uint64_t want = ((uint64_t)back << 32) | (front + 1);
        if (__atomic_compare_exchange_n(range, &cur, want, 1, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) return front;
    }
}

long baton_claim_back(uint64_t *range) {
    uint64_t cur = __atomic_load_n(range, __ATOMIC_ACQUIRE);
    for (;;) {
        uint32_t front = (uint32_t)cur, back = (uint32_t)(cur >> 32);
        if (front >= back) return -1;
        uint64_t want = ((uint64_t)(back - 1) << 32) | front;
        if (__atomic_compare_exchange_n(range, &cur, want, 1, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) return back - 1;
    }
}

int baton_vnni_wide_default(void) {
    __builtin_cpu_init();
    return !__builtin_cpu_is("amd");
}

int baton_vnni_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
}
