// The batched-decode matmul with vpdpbusd (see include/BatonKernelsC.h). Built with
// -ffp-contract=off: every rounding below is an explicit intrinsic, as in the Swift kernels.
//
// Per block, a zmm holds a row pair: lanes 0-7 the first row, 8-15 the second. The weights'
// 32 bytes per row are in ggml's element order (Q4: the 16 low nibbles are elements 0..15, the
// high ones 16..31), the activation's 32 quants likewise, so dpbusd's lane j is the exact
// integer sum of the products of elements 4j..4j+3: the lane the Swift kernels and ggml form.
//   Q4_1:       dpbusd(0, nibbles (u8), q (s8)).
//   Q4_0, Q8_0: the weights are signed; the activations are stored biased, q + 128 (u8, q is
//               in [-127, 127]), and the accumulator starts at -128 * sum(w) of the lane:
//               dpbusd(-128 sum w, q + 128, w) = sum q w, exactly (int32, no saturation).
// Then lane = f32(int), acc = fma(d_w * d_x, lane, acc) with d_w * d_x rounded to f32 first.
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

/// hsum_float_8 of both halves of a pair: ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)).
INLINE void hsum_pair(__m512 v, float *r0, float *r1) {
    float l[16];
    _mm512_storeu_ps(l, v);
    float a0 = l[4] + l[0], a1 = l[5] + l[1], a2 = l[6] + l[2], a3 = l[7] + l[3];
    float b0 = l[12] + l[8], b1 = l[13] + l[9], b2 = l[14] + l[10], b3 = l[15] + l[11];
    *r0 = (a0 + a2) + (a1 + a3);
    *r1 = (b0 + b2) + (b1 + b3);
}

/// One block of a decoded quad (four weight rows): both pairs' weight bytes, their f32 scales
/// d_w (8 lanes per row) and, for Q4_0 / Q8_0, the accumulator start -128 sum(w) per lane.
typedef struct {
    __m512i w0, w1;
    __m512 dw0, dw1;
    __m512i init0, init1;
} QuadBlock;

/// Per-thread storage for one decoded quad: decoded once, applied to every token (it stays in
/// L1: 384 bytes per block).
static __thread QuadBlock *panel;
static __thread float *panelMins;
static __thread long panelBlocks;

INLINE void decode_quad(const int type, const uint8_t *const rows[4], long nb) {
    const long bb = type == Q4_1 ? 20 : type == Q4_0 ? 18 : 34;
    const __m512i idx0 = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2);
    const __m512i idx1 = _mm512_setr_epi32(4, 4, 4, 4, 4, 4, 4, 4, 6, 6, 6, 6, 6, 6, 6, 6);
    const __m256i idxm = _mm256_setr_epi32(1, 3, 5, 7, 1, 3, 5, 7);
    const uint8_t *pa = rows[0], *pb = rows[1], *pc = rows[2], *pd = rows[3];
    for (long blk = 0; blk < nb; blk++) {
        QuadBlock *qb = panel + blk;
        __m512i w0 = pair_weights(type, pa, pb), w1 = pair_weights(type, pc, pd);
        qb->w0 = w0;
        qb->w1 = w1;
        __m128i h = _mm_setr_epi32((int)load_u32(pa), (int)load_u32(pb), (int)load_u32(pc), (int)load_u32(pd));
        __m256 f = _mm256_cvtph_ps(h);   // d_a m_a d_b m_b d_c m_c d_d m_d (exact)
        __m512 f5 = _mm512_castps256_ps512(f);
        qb->dw0 = _mm512_permutexvar_ps(idx0, f5);
        qb->dw1 = _mm512_permutexvar_ps(idx1, f5);
        if (type == Q4_1) {
            _mm_storeu_ps(panelMins + 4 * blk, _mm256_castps256_ps128(_mm256_permutevar8x32_ps(f, idxm)));
        } else {
            const __m512i b128 = _mm512_set1_epi8((char)0x80), zero = _mm512_setzero_si512();
            qb->init0 = _mm512_sub_epi32(zero, _mm512_dpbusd_epi32(zero, b128, w0));
            qb->init1 = _mm512_sub_epi32(zero, _mm512_dpbusd_epi32(zero, b128, w1));
        }
        pa += bb; pb += bb; pc += bb; pd += bb;
    }
}

/// NT (1..NT_MAX) tokens against the decoded quad; only `valid` outputs are stored.
INLINE void quad_tokens(
    const int type, const int NT, long k,
    const int8_t *q, long qStride, const float *xf, long xStride,
    float *out, long n, int valid, int accumulate, const uint8_t *const *next)
{
    const long nb = k / 32;
    const long bb = type == Q4_1 ? 20 : type == Q4_0 ? 18 : 34;
    __m512 acc0[8], acc1[8];
    __m128 mins[8];
    for (int t = 0; t < NT; t++) { acc0[t] = _mm512_setzero_ps(); acc1[t] = _mm512_setzero_ps(); mins[t] = _mm_setzero_ps(); }
    for (long blk = 0; blk < nb; blk++) {
        const QuadBlock *qb = panel + blk;
        if (next) {   // the next quad's weights, while this one computes
            for (int i = 0; i < 4; i++) _mm_prefetch((const char *)next[i] + blk * bb, _MM_HINT_T0);
        }
        const __m512i w0 = qb->w0, w1 = qb->w1;
        const __m512 dw0 = qb->dw0, dw1 = qb->dw1;
        __m512i init0 = _mm512_setzero_si512(), init1 = _mm512_setzero_si512();
        __m128 m = _mm_setzero_ps();
        if (type == Q4_1) m = _mm_loadu_ps(panelMins + 4 * blk);
        else { init0 = qb->init0; init1 = qb->init1; }
        for (int t = 0; t < NT; t++) {
            const int8_t *qt = q + t * qStride + 32 * blk;
            const float *xt = xf + t * xStride;
            __m512i x = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)qt));
            __m512 dx = _mm512_set1_ps(xt[k + blk]);
            __m512i l0, l1;
            if (type == Q4_1) {
                l0 = _mm512_dpbusd_epi32(init0, w0, x);
                l1 = _mm512_dpbusd_epi32(init1, w1, x);
            } else {
                l0 = _mm512_dpbusd_epi32(init0, x, w0);
                l1 = _mm512_dpbusd_epi32(init1, x, w1);
            }
            acc0[t] = _mm512_fmadd_ps(_mm512_mul_ps(dw0, dx), _mm512_cvtepi32_ps(l0), acc0[t]);
            acc1[t] = _mm512_fmadd_ps(_mm512_mul_ps(dw1, dx), _mm512_cvtepi32_ps(l1), acc1[t]);
            if (type == Q4_1) mins[t] = _mm_fmadd_ps(m, _mm_set1_ps(xt[k + nb + blk]), mins[t]);
        }
    }
    for (int t = 0; t < NT; t++) {
        float v[4];
        hsum_pair(acc0[t], &v[0], &v[1]);
        hsum_pair(acc1[t], &v[2], &v[3]);
        if (type == Q4_1) {
            float mm[4];
            _mm_storeu_ps(mm, mins[t]);
            for (int i = 0; i < 4; i++) v[i] = v[i] + mm[i];
        }
        float *o = out + t * n;
        for (int i = 0; i < valid; i++) o[i] = accumulate ? o[i] + v[i] : v[i];
    }
}

#define NT_MAX 4

INLINE void run_type(
    const int type, const uint8_t *w, long rowBytes, long k,
    const int8_t *q, long qStride, const float *xf, long xStride,
    long t0, long t1, float *out, long n, long r0, long r1, int accumulate)
{
    const long nb = k / 32;
    for (long r = r0; r < r1; r += 4) {
        long last = r1 - 1;
        int valid = (int)(r1 - r < 4 ? r1 - r : 4);
        const uint8_t *rows[4];
        for (int i = 0; i < 4; i++) rows[i] = w + (r + i <= last ? r + i : last) * rowBytes;
        decode_quad(type, rows, nb);
        const uint8_t *nextRows[4];
        for (int i = 0; i < 4; i++) nextRows[i] = w + (r + 4 + i <= last ? r + 4 + i : last) * rowBytes;
        const uint8_t *const *next = r + 4 < r1 ? nextRows : NULL;
        long i = t0;
        for (; i + NT_MAX <= t1; i += NT_MAX) {
            quad_tokens(type, NT_MAX, k, q + i * qStride, qStride, xf + i * xStride, xStride, out + i * n + r, n, valid, accumulate, next);
            next = NULL;
        }
        switch (t1 - i) {
        case 3: quad_tokens(type, 3, k, q + i * qStride, qStride, xf + i * xStride, xStride, out + i * n + r, n, valid, accumulate, next); break;
        case 2: quad_tokens(type, 2, k, q + i * qStride, qStride, xf + i * xStride, xStride, out + i * n + r, n, valid, accumulate, next); break;
        case 1: quad_tokens(type, 1, k, q + i * qStride, qStride, xf + i * xStride, xStride, out + i * n + r, n, valid, accumulate, next); break;
        default: break;
        }
    }
}

void baton_vnni_batched_gemv(
    int type, const void *w, long rowBytes, long k,
    const int8_t *q, long qStride, const float *xf, long xStride,
    long t0, long t1, float *out, long n, long r0, long r1, int accumulate)
{
    const uint8_t *wb = (const uint8_t *)w;
    const long nb = k / 32;
    if (panelBlocks < nb) {
        free(panel);
        free(panelMins);
        panel = aligned_alloc(64, (size_t)nb * sizeof(QuadBlock));
        panelMins = aligned_alloc(64, (size_t)((nb * 4 * sizeof(float) + 63) / 64 * 64));
        panelBlocks = nb;
    }
    switch (type) {
    case Q4_1: run_type(Q4_1, wb, rowBytes, k, q, qStride, xf, xStride, t0, t1, out, n, r0, r1, accumulate); break;
    case Q4_0: run_type(Q4_0, wb, rowBytes, k, q, qStride, xf, xStride, t0, t1, out, n, r0, r1, accumulate); break;
    default:   run_type(Q8_0, wb, rowBytes, k, q, qStride, xf, xStride, t0, t1, out, n, r0, r1, accumulate); break;
    }
}

int baton_vnni_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
}
