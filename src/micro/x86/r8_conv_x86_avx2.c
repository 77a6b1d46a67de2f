/* CONV_2D, the AVX2 level (r8_x86.h): dot products by VPMADDWD on 16-bit inputs and weights (no VPMADDUBSW,
 * whose int16 sums of two products can saturate at 2 x 255 x 128), four output pixels by 16 channels a step;
 * and the requantization of any level, eight channels at a time, lane by lane the arithmetic of
 * r8_fixedpoint.h. Built with -mavx2; called only when the CPU has AVX2 (r8_x86_supported). */
#include "r8_x86.h"

#if defined(__x86_64__) && defined(__AVX2__)
#include <immintrin.h>

/* The patches as int16, in `work`. */
static void r8_widen_patches(const int8_t* patches, int32_t bytes, int16_t* work) {
  int32_t i;
  for (i = 0; i < bytes; i += 16) {
    const __m128i v = _mm_loadu_si128((const __m128i*)(patches + i));
    _mm256_storeu_si256((__m256i*)(work + i), _mm256_cvtepi8_epi16(v));
  }
}

void r8_x86_dots_avx2(const int32_t* packed, const int8_t* patches, int8_t* work, int32_t* acc) {
  const int32_t kp = packed[R8_X86_KP], blocks = packed[R8_X86_BLOCKS], width = R8_X86_BLOCK * blocks;
  const int16_t* const x = (const int16_t*)work;
  const int16_t* w = (const int16_t*)r8_x86_filters(packed);
  int32_t b, k, px;
  r8_widen_patches(patches, 4 * kp, (int16_t*)work); /* four pixels; kp is a multiple of 8 */
  for (b = 0; b < blocks; ++b) {
    __m256i a[4][2];
    for (px = 0; px < 4; ++px) a[px][0] = a[px][1] = _mm256_setzero_si256();
    for (k = 0; k < kp; k += 2, w += 2 * R8_X86_BLOCK) {
      const __m256i w0 = _mm256_loadu_si256((const __m256i*)w), w1 = _mm256_loadu_si256((const __m256i*)(w + 16));
      for (px = 0; px < 4; ++px) {
        int32_t pair;
        __builtin_memcpy(&pair, x + px * kp + k, 4);
        const __m256i v = _mm256_set1_epi32(pair);
        a[px][0] = _mm256_add_epi32(a[px][0], _mm256_madd_epi16(v, w0));
        a[px][1] = _mm256_add_epi32(a[px][1], _mm256_madd_epi16(v, w1));
      }
    }
    for (px = 0; px < 4; ++px) {
      _mm256_storeu_si256((__m256i*)(acc + px * width + b * R8_X86_BLOCK), a[px][0]);
      _mm256_storeu_si256((__m256i*)(acc + px * width + b * R8_X86_BLOCK + 8), a[px][1]);
    }
  }
}

/* r8_srdhm lane by lane, for multipliers other than INT32_MIN: (a x b + 2^30) >> 31 in 64 bits, which is
 * gemmlowp's nudge and truncating division for either sign. The low 32 bits of a logical shift are those of
 * the arithmetic one, and the result fits in them. */
static __m256i r8_srdhm8(__m256i a, __m256i b) {
  const __m256i nudge = _mm256_set1_epi64x((int64_t)1 << 30);
  const __m256i even = _mm256_add_epi64(_mm256_mul_epi32(a, b), nudge);
  const __m256i odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(a, 32), _mm256_srli_epi64(b, 32)), nudge);
  return _mm256_blend_epi32(_mm256_srli_epi64(even, 31), _mm256_slli_epi64(_mm256_srli_epi64(odd, 31), 32), 0xAA);
}

/* r8_rdbpot lane by lane, exponents 0..31. */
static __m256i r8_rdbpot8(__m256i x, __m256i exponent) {
  const __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(_mm256_set1_epi32(1), exponent), _mm256_set1_epi32(1));
  const __m256i remainder = _mm256_and_si256(x, mask);
  const __m256i threshold = _mm256_sub_epi32(_mm256_srli_epi32(mask, 1), _mm256_cmpgt_epi32(_mm256_setzero_si256(), x));
  return _mm256_sub_epi32(_mm256_srav_epi32(x, exponent), _mm256_cmpgt_epi32(remainder, threshold));
}

static __m256i r8_clamp8(__m256i x, int32_t lo, int32_t hi) {
  return _mm256_min_epi32(_mm256_max_epi32(x, _mm256_set1_epi32(lo)), _mm256_set1_epi32(hi));
}

/* r8_mbqm_lt1 with one multiplier and shift for every lane. */
static __m256i r8_mbqm_lt1_8(__m256i x, int32_t multiplier, int32_t left_shift) {
  return r8_rdbpot8(r8_srdhm8(x, _mm256_set1_epi32(multiplier)), _mm256_set1_epi32(-left_shift));
}

/* r8_add_element lane by lane. */
static __m256i r8_add8(const r8_add_params* p, __m256i in1, __m256i in2) {
  const __m128i left = _mm_cvtsi32_si128(p->left_shift);
  const __m256i s1 = _mm256_sll_epi32(_mm256_add_epi32(in1, _mm256_set1_epi32(p->input1_offset)), left);
  const __m256i s2 = _mm256_sll_epi32(_mm256_add_epi32(in2, _mm256_set1_epi32(p->input2_offset)), left);
  const __m256i sum = _mm256_add_epi32(r8_mbqm_lt1_8(s1, p->input1_multiplier, p->input1_shift),
                                       r8_mbqm_lt1_8(s2, p->input2_multiplier, p->input2_shift));
  const __m256i out =
      _mm256_add_epi32(r8_mbqm_lt1_8(sum, p->output_multiplier, p->output_shift), _mm256_set1_epi32(p->output_offset));
  return r8_clamp8(out, p->act_min, p->act_max);
}

/* r8_mbqm lane by lane: a left shift, r8_srdhm8, r8_rdbpot8. */
static __m256i r8_mbqm8(__m256i x, __m256i multiplier, __m256i left, __m256i right) {
  return r8_rdbpot8(r8_srdhm8(_mm256_sllv_epi32(x, left), multiplier), right);
}

void r8_x86_mbqm8(const int32_t* x, const int32_t* multiplier, const int32_t* shift, int32_t* out) {
  const __m256i s = _mm256_loadu_si256((const __m256i*)shift), zero = _mm256_setzero_si256();
  const __m256i y = r8_mbqm8(_mm256_loadu_si256((const __m256i*)x), _mm256_loadu_si256((const __m256i*)multiplier),
                             _mm256_max_epi32(s, zero), _mm256_max_epi32(_mm256_sub_epi32(zero, s), zero));
  _mm256_storeu_si256((__m256i*)out, y);
}

/* r8_conv_result for channels oc .. oc + 7. */
static __m256i r8_result8(const r8_conv_params* p, const int32_t* packed, int32_t oc, __m256i dot, const int8_t* out) {
  const int32_t* bias = r8_x86_table(packed, R8_X86_BIAS) + oc;
  const __m256i offset = _mm256_loadu_si256((const __m256i*)(r8_x86_table(packed, R8_X86_OFFSET) + oc));
  __m256i x = _mm256_add_epi32(_mm256_sub_epi32(dot, offset), _mm256_loadu_si256((const __m256i*)bias));
  x = r8_mbqm8(x, _mm256_loadu_si256((const __m256i*)(r8_x86_table(packed, R8_X86_MULTIPLIER) + oc)),
               _mm256_loadu_si256((const __m256i*)(r8_x86_table(packed, R8_X86_LEFT) + oc)),
               _mm256_loadu_si256((const __m256i*)(r8_x86_table(packed, R8_X86_RIGHT) + oc)));
  x = r8_clamp8(_mm256_add_epi32(x, _mm256_set1_epi32(p->output_offset)), p->act_min, p->act_max);
  if (p->add) {
    const __m256i residual = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i*)(out + oc)));
    x = p->add_input == 1 ? r8_add8(p->add, x, residual) : r8_add8(p->add, residual, x);
  }
  return x;
}

void r8_x86_outputs_avx2(const r8_conv_params* p, const int32_t* packed, const int32_t* acc, int8_t* out) {
  int32_t oc;
  for (oc = 0; oc + 8 <= p->output.channels; oc += 8) {
    const __m256i x = r8_result8(p, packed, oc, _mm256_loadu_si256((const __m256i*)(acc + oc)), out);
    const __m128i halves = _mm_packs_epi32(_mm256_castsi256_si128(x), _mm256_extracti128_si256(x, 1));
    _mm_storel_epi64((__m128i*)(out + oc), _mm_packs_epi16(halves, halves)); /* values are in -128..127 */
  }
}

#else /* not built for AVX2: never called (r8_x86_supported) */
void r8_x86_dots_avx2(const int32_t* packed, const int8_t* patches, int8_t* work, int32_t* acc) {
  (void)packed, (void)patches, (void)work, (void)acc;
}
void r8_x86_outputs_avx2(const r8_conv_params* p, const int32_t* packed, const int32_t* acc, int8_t* out) {
  (void)p, (void)packed, (void)acc, (void)out;
}
void r8_x86_mbqm8(const int32_t* x, const int32_t* multiplier, const int32_t* shift, int32_t* out) {
  (void)x, (void)multiplier, (void)shift, (void)out;
}
#endif
