// Integer-dot-product (AVX-512 VNNI, vpdpbusd) kernels for the batched decode matmul
// (Sources/BatonKernels/Gemv.swift, batchedGemv). Bit for bit the same as the Swift kernels and
// ggml's vec_dot: per block, lane j = the exact integer sum of the four products of elements
// 4j..4j+3 (ggml order), converted to f32, acc = fma(d_w * d_x, lane, acc); Q4_1 adds
// summs = fma(m_w, s_x, summs); result hsum_float_8(acc) (+ summs).
#ifndef BATON_KERNELS_C_H
#define BATON_KERNELS_C_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Weight types (QuantType): 0 = Q4_1, 1 = Q4_0, 2 = Q8_0.
///
/// out[i * n + r] (+)= W[r] . x_i for tokens i in [t0, t1) and weight rows r in [r0, r1).
///   w, rowBytes:  the weight matrix in its file format (k / 32 blocks per row)
///   q, qStride:   per token the k activation quants in ggml order, bytes: for Q4_1 (Q8_1
///                 activations) the signed q; for Q4_0 / Q8_0 (Q8_0 activations) q + 128 (u8)
///   xf, xStride:  per token the prepared float row; its f16-rounded scales d at xf[k + b]
///                 and (Q8_1) s at xf[k + k/32 + b]
///   wide:         1 for the two-tokens-per-zmm form (BatchedGemv.c, quad_pairs), same bits
void baton_vnni_batched_gemv(
    int type, const void *w, long rowBytes, long k,
    const int8_t *q, long qStride, const float *xf, long xStride,
    long t0, long t1, float *out, long n, long r0, long r1, int accumulate, int wide);

/// baton_vnni_batched_gemv in two steps, so that a thread lays out the tokens once and then
/// computes any number of row ranges: `prepare` puts tokens [t0, t1) of the activations in the
/// calling thread's buffers; `rows` computes weight rows [r0, r1) from them on the same thread
/// (same type family, k, tokens and wide as its last `prepare`), prefetching the quad after r1
/// while it is below rLimit (the rows the thread will likely take next; r1 for none).
void baton_vnni_prepare(
    int type, long k, const int8_t *q, long qStride, const float *xf, long xStride, long t0, long t1, int wide);
void baton_vnni_rows(
    int type, const void *w, long rowBytes, long k, const int8_t *q, long qStride,
    long t0, long t1, float *out, long n, long r0, long r1, long rLimit, int accumulate, int wide);

/// A range of work units [front, back) in one word (front in the low 32 bits): its owner takes
/// units from the front, other threads from the back, atomically. -1 when it is empty.
long baton_claim_front(uint64_t *range);
long baton_claim_back(uint64_t *range);

/// 1 where the wide form is the faster one: not on AMD (Zen 4 runs a zmm operation as two ymm
/// halves, so the wide form's extra scale multiply makes it slower there).
int baton_vnni_wide_default(void);

/// 1 if the CPU has AVX-512 F/BW/VL and AVX512-VNNI (checked at run time).
int baton_vnni_available(void);

/// One (token, KV head) item of Attention.swift's paged attention (Attention.c), same bits as
/// its Swift loops. kCache / vCache: one layer's f16 cache (slots, kvDim); table: the
/// sequence's block ids; headOffset: the KV head's first element in a slot row; qRounded:
/// the group's query heads rounded to f16 (group, headDim). headDim a multiple of 64, group and
/// headDim / 16 at most 8.
///
/// Scores: scores[h * rowStride + p] = (q_h . k_p) * scale for p < length (decode: ggml_vec_dot_f16's
/// order, else tinyBLAS's), and rows[p] = the element offset of position p's slot row (length
/// entries; the values pass reads them). prefetch: also bring the slot rows (all KV heads) of K
/// and V into cache ahead.
void baton_attention_scores(
    const float *qRounded, const uint16_t *kCache, const uint16_t *vCache, const int32_t *table,
    long blockSize, long kvDim, long headOffset, long length, int decode, float scale,
    int group, long headDim, float *scores, long rowStride, long *rows, int prefetch);

/// Values: rounds the softmaxed weights (group rows of rowStride, padded with zeros to a multiple
/// of 16) to f16 in place, then out[h * headDim + c] = sum_p w_h[p] v_p[c] by lanes of position
/// mod 64 (decode) or 16, combined as ggml. laneSums: scratch of 64 * group * headDim floats.
void baton_attention_values(
    float *weights, long rowStride, const uint16_t *vCache, const long *rows, long headOffset,
    long length, int decode, int group, long headDim, float *laneSums, float *out);

/// dst (count) = src rounded to f16, to nearest even (vcvtps2ph; needs AVX-512 F).
void baton_store_halfs(const float *src, uint16_t *dst, long count);

/// 1 if the CPU has AVX-512 F/BW/VL, F16C and FMA (checked at run time).
int baton_avx512_available(void);

/// A hint to bring the cache line at `p` into all cache levels (attention reads the next
/// block's K/V rows while it works on this one; no effect on results).
static inline __attribute__((always_inline)) void baton_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }

#ifdef __cplusplus
}
#endif

#endif
