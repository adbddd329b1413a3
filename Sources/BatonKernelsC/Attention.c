// One (token, KV head) item of the paged attention in Sources/BatonKernels/Attention.swift, with
// AVX-512: the same operations in the same order as the Swift loops (and so as ggml), so the
// same bits; only independent sums are interleaved differently. Built with -ffp-contract=off.
//
// q·k: per position the 16-lane vector the Swift dot forms (decode: four accumulators over
// steps of 64, combined (0+2)+(1+3); prefill: one accumulator of FMAs over chunks of 16), then
// _mm512_reduce_add_ps's order (halves 8+8, 4+4, then (0+2)+(1+3)) done for 16 positions at
// once by a shuffle tree: each level adds the same pairs of lanes as the one-position reduction,
// two positions per instruction, instead of a shuffle chain per position.
// Σ p·v: lane L (position mod 16 or 64) is its own FMA chain over positions L, L + lanes, …;
// the Swift loop advances all lanes position by position through memory, this walks one lane at
// a time with the group's accumulators in registers. Then the same combination of the lanes.
#include "BatonKernelsC.h"
#include <immintrin.h>
#include <string.h>

#define INLINE static inline __attribute__((always_inline))

INLINE __m512 load_half16(const uint16_t *p) { return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p)); }


/// r[j] = reduce16(v[j]) for j < 16, where reduce16(x) = (b0 + b2) + (b1 + b3),
/// b_l = a_{l+4} + a_l, a_l = x_{l+8} + x_l (float addition commutes, so each pair may be
/// added either way round).
INLINE __m512 reduce16x16(const __m512 v[16]) {
    // Level 1: a of positions 2i (lanes 0..7) and 2i + 1 (lanes 8..15).
    __m512 a[8];
    for (int i = 0; i < 8; i++) {
        __m512 lo = _mm512_shuffle_f32x4(v[2 * i], v[2 * i + 1], _MM_SHUFFLE(1, 0, 1, 0));   // [x.c0 x.c1 y.c0 y.c1]
        __m512 hi = _mm512_shuffle_f32x4(v[2 * i], v[2 * i + 1], _MM_SHUFFLE(3, 2, 3, 2));   // [x.c2 x.c3 y.c2 y.c3]
        a[i] = _mm512_add_ps(hi, lo);
    }
    // Level 2: b of four positions, one per 128-bit chunk: chunk m of b[j] is position 4j + m.
    __m512 b[4];
    for (int j = 0; j < 4; j++) {
        __m512 lo = _mm512_shuffle_f32x4(a[2 * j], a[2 * j + 1], _MM_SHUFFLE(2, 0, 2, 0));   // a_0..3 of the four positions
        __m512 hi = _mm512_shuffle_f32x4(a[2 * j], a[2 * j + 1], _MM_SHUFFLE(3, 1, 3, 1));   // a_4..7
        b[j] = _mm512_add_ps(hi, lo);
    }
    // Level 3: (b0 + b2), (b1 + b3) of two vectors' positions, per chunk [x: e0 e1, y: e0 e1].
    __m512 c[2];
    for (int k = 0; k < 2; k++) {
        __m512 lo = _mm512_shuffle_ps(b[2 * k], b[2 * k + 1], _MM_SHUFFLE(1, 0, 1, 0));
        __m512 hi = _mm512_shuffle_ps(b[2 * k], b[2 * k + 1], _MM_SHUFFLE(3, 2, 3, 2));
        c[k] = _mm512_add_ps(lo, hi);
    }
    // Level 4: e0 + e1, per chunk [c0: x y, c1: x y].
    __m512 lo = _mm512_shuffle_ps(c[0], c[1], _MM_SHUFFLE(2, 0, 2, 0));
    __m512 hi = _mm512_shuffle_ps(c[0], c[1], _MM_SHUFFLE(3, 1, 3, 1));
    __m512 r = _mm512_add_ps(lo, hi);
    // Lane 4m + e of r comes from b[e] (c[e / 2], half e % 2), chunk m: position 4e + m. So
    // position P is at lane 4 (P % 4) + P / 4.
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    return _mm512_permutexvar_ps(order, r);
}

INLINE void scores_item(
    const int group, const int chunks, const float *qr, const uint16_t *kCache, const int32_t *table,
    long blockSize, long kvDim, long headOffset, long length, int decode, float scale,
    float *scores, long rowStride, long *rows, const uint16_t *vCache, int prefetch)
{
    __m512 q[8][8];
    for (int h = 0; h < group; h++)
        for (int c = 0; c < chunks; c++) q[h][c] = _mm512_loadu_ps(qr + h * chunks * 16 + c * 16);
    // Slot rows (element offset of the slot's row) of every position, for the values pass too.
    for (long p = 0, blk = 0; p < length; blk++) {
        long base = (long)table[blk] * blockSize;
        for (long o = 0; o < blockSize && p < length; o++, p++) rows[p] = (base + o) * kvDim;
    }
    const long ahead = 16;
    if (prefetch) {
        for (long p = 0; p < length && p < ahead; p++)
            for (long byte = 0; byte < kvDim * 2; byte += 64) {
                _mm_prefetch((const char *)(kCache + rows[p]) + byte, _MM_HINT_T0);
                _mm_prefetch((const char *)(vCache + rows[p]) + byte, _MM_HINT_T0);
            }
    }
    const __m512 vscale = _mm512_set1_ps(scale);
    const __m512 zero = _mm512_setzero_ps();
    for (long p0 = 0; p0 < length; p0 += 16) {
        __m512 u[8][16];
        const long n = length - p0 < 16 ? length - p0 : 16;
        for (long j = 0; j < 16; j++) {
            if (j >= n) {
                for (int h = 0; h < group; h++) u[h][j] = zero;
                continue;
            }
            const long p = p0 + j;
            if (prefetch && p + ahead < length) {
                for (long byte = 0; byte < kvDim * 2; byte += 64) {
                    _mm_prefetch((const char *)(kCache + rows[p + ahead]) + byte, _MM_HINT_T0);
                    _mm_prefetch((const char *)(vCache + rows[p + ahead]) + byte, _MM_HINT_T0);
                }
            }
            const uint16_t *kr = kCache + rows[p] + headOffset;
            __m512 k[8];
            for (int c = 0; c < chunks; c++) k[c] = load_half16(kr + 16 * c);
            for (int h = 0; h < group; h++) {
                if (decode) {
                    __m512 s0 = zero, s1 = zero, s2 = zero, s3 = zero;
                    for (int c = 0; c < chunks; c += 4) {
                        s0 = _mm512_fmadd_ps(q[h][c], k[c], s0);
                        s1 = _mm512_fmadd_ps(q[h][c + 1], k[c + 1], s1);
                        s2 = _mm512_fmadd_ps(q[h][c + 2], k[c + 2], s2);
                        s3 = _mm512_fmadd_ps(q[h][c + 3], k[c + 3], s3);
                    }
                    u[h][j] = _mm512_add_ps(_mm512_add_ps(s0, s2), _mm512_add_ps(s1, s3));
                } else {
                    __m512 acc = _mm512_mul_ps(q[h][0], k[0]);
                    for (int c = 1; c < chunks; c++) acc = _mm512_fmadd_ps(q[h][c], k[c], acc);
                    u[h][j] = acc;
                }
            }
        }
        for (int h = 0; h < group; h++) {
            __m512 r = _mm512_mul_ps(reduce16x16(u[h]), vscale);
            float *dst = scores + h * rowStride + p0;
            if (n == 16) _mm512_storeu_ps(dst, r);
            else _mm512_mask_storeu_ps(dst, (__mmask16)((1u << n) - 1), r);
        }
    }
}

void baton_attention_scores(
    const float *qRounded, const uint16_t *kCache, const uint16_t *vCache, const int32_t *table,
    long blockSize, long kvDim, long headOffset, long length, int decode, float scale,
    int group, long headDim, float *scores, long rowStride, long *rows, int prefetch)
{
    const int chunks = (int)(headDim / 16);
    if (group == 3 && chunks == 4)
        scores_item(3, 4, qRounded, kCache, table, blockSize, kvDim, headOffset, length, decode, scale, scores, rowStride, rows, vCache, prefetch);
    else if (group == 4 && chunks == 4)
        scores_item(4, 4, qRounded, kCache, table, blockSize, kvDim, headOffset, length, decode, scale, scores, rowStride, rows, vCache, prefetch);
    else if (group == 2 && chunks == 4)
        scores_item(2, 4, qRounded, kCache, table, blockSize, kvDim, headOffset, length, decode, scale, scores, rowStride, rows, vCache, prefetch);
    else
        scores_item(group, chunks, qRounded, kCache, table, blockSize, kvDim, headOffset, length, decode, scale, scores, rowStride, rows, vCache, prefetch);
}

INLINE void values_item(
    const int group, const int chunks, float *weights, long rowStride, const uint16_t *vCache,
    const long *rows, long headOffset, long length, int decode, float *laneSums, float *out)
{
    const long lanes = decode ? 64 : 16;
    // The weights rounded to f16 (Float(Float16(w)), to nearest even), as ggml stores them.
    for (int h = 0; h < group; h++) {
        float *w = weights + h * rowStride;
        for (long p = 0; p < length; p += 16) {
            __m512 x = _mm512_loadu_ps(w + p);
            _mm512_storeu_ps(w + p, _mm512_cvtph_ps(_mm512_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)));
        }
    }
    const long filled = length < lanes ? length : lanes;
    const long laneFloats = (long)group * chunks * 16;
    for (long L = 0; L < filled; L++) {
        __m512 acc[8][8];
        {
            const uint16_t *vr = vCache + rows[L] + headOffset;
            __m512 v[8];
            for (int c = 0; c < chunks; c++) v[c] = load_half16(vr + 16 * c);
            for (int h = 0; h < group; h++) {
                __m512 w = _mm512_set1_ps(weights[h * rowStride + L]);
                for (int c = 0; c < chunks; c++) acc[h][c] = _mm512_mul_ps(v[c], w);
            }
        }
        for (long p = L + lanes; p < length; p += lanes) {
            const uint16_t *vr = vCache + rows[p] + headOffset;
            __m512 v[8];
            for (int c = 0; c < chunks; c++) v[c] = load_half16(vr + 16 * c);
            for (int h = 0; h < group; h++) {
                __m512 w = _mm512_set1_ps(weights[h * rowStride + p]);
                for (int c = 0; c < chunks; c++) acc[h][c] = _mm512_fmadd_ps(w, v[c], acc[h][c]);
            }
        }
        float *dst = laneSums + L * laneFloats;
        for (int h = 0; h < group; h++)
            for (int c = 0; c < chunks; c++) _mm512_storeu_ps(dst + (h * chunks + c) * 16, acc[h][c]);
    }
    // The lanes: T[l] (decode: (A[l] + A[32 + l]) + (A[16 + l] + A[48 + l])), then
    // _mm512_reduce_add_ps's order over l; lanes past the last position are zeros.
    const __m512 zero = _mm512_setzero_ps();
    for (int h = 0; h < group; h++) {
        for (int c = 0; c < chunks; c++) {
            const long at = (h * chunks + c) * 16;
#define LANE(l) ((l) < filled ? _mm512_loadu_ps(laneSums + (l) * laneFloats + at) : zero)
            __m512 T[16];
            for (int l = 0; l < 16; l++)
                T[l] = decode ? _mm512_add_ps(_mm512_add_ps(LANE(l), LANE(32 + l)), _mm512_add_ps(LANE(16 + l), LANE(48 + l))) : LANE(l);
#undef LANE
            __m512 t0 = _mm512_add_ps(T[8], T[0]), t1 = _mm512_add_ps(T[9], T[1]), t2 = _mm512_add_ps(T[10], T[2]), t3 = _mm512_add_ps(T[11], T[3]);
            __m512 t4 = _mm512_add_ps(T[12], T[4]), t5 = _mm512_add_ps(T[13], T[5]), t6 = _mm512_add_ps(T[14], T[6]), t7 = _mm512_add_ps(T[15], T[7]);
            t0 = _mm512_add_ps(t4, t0); t1 = _mm512_add_ps(t5, t1); t2 = _mm512_add_ps(t6, t2); t3 = _mm512_add_ps(t7, t3);
            t0 = _mm512_add_ps(t2, t0); t1 = _mm512_add_ps(t3, t1);
            _mm512_storeu_ps(out + at, _mm512_add_ps(t1, t0));
        }
    }
}

void baton_attention_values(
    float *weights, long rowStride, const uint16_t *vCache, const long *rows, long headOffset,
    long length, int decode, int group, long headDim, float *laneSums, float *out)
{
    const int chunks = (int)(headDim / 16);
    if (group == 3 && chunks == 4)
        values_item(3, 4, weights, rowStride, vCache, rows, headOffset, length, decode, laneSums, out);
    else if (group == 4 && chunks == 4)
        values_item(4, 4, weights, rowStride, vCache, rows, headOffset, length, decode, laneSums, out);
    else if (group == 2 && chunks == 4)
        values_item(2, 4, weights, rowStride, vCache, rows, headOffset, length, decode, laneSums, out);
    else
        values_item(group, chunks, weights, rowStride, vCache, rows, headOffset, length, decode, laneSums, out);
}

int baton_avx512_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")
        && __builtin_cpu_supports("f16c") && __builtin_cpu_supports("fma");
}

void baton_store_halfs(const float *src, uint16_t *dst, long count) {
    long i = 0;
    for (; i + 16 <= count; i += 16)
        _mm256_storeu_si256((__m256i *)(dst + i), _mm512_cvtps_ph(_mm512_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    for (; i < count; i++)
        dst[i] = (uint16_t)_mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(src[i]), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), 0);
}
