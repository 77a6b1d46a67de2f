/* CONV_2D, the AVX2 level (r8_x86.h): dot products by VPMADDWD on 16-bit inputs and weights (no VPMADDUBSW,
 * whose int16 sums of two products can saturate at 2 x 255 x 128), four output pixels by 16 channels a step;
 * and the requantization of any level, eight channels at a time, lane by lane the arithmetic of
 * r8_fixedpoint.h. Built with -mavx2; called only when the CPU has AVX2 (r8_x86_supported). */
#include "r8_x86.h"

#if defined(__x86_64__) && defined(__AVX2__)
#include <immintrin.h>

void r8_x86_copy_avx2(const int8_t* from, int32_t n, int8_t zero, void* to) {
  int16_t* out = (int16_t*)to;
  int32_t i = 0;
  if (!from) {
    const __m256i z = _mm256_set1_epi16(zero);
    for (; i + 16 <= n; i += 16) _mm256_storeu_si256((__m256i*)(out + i), z);
    for (; i < n; ++i) out[i] = zero;
    return;
  }
  for (; i + 16 <= n; i += 16) {
    _mm256_storeu_si256((__m256i*)(out + i), _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i*)(from + i))));
  }
  for (; i < n; ++i) out[i] = from[i];
}

/* Output pixels a tile: four, each with two blocks of eight channels' sums in registers. */
#define R8_TILE R8_X86_TILE_AVX2

void r8_x86_dots_avx2(const r8_conv_params* p, const int32_t* packed, const void* image, r8_x86_padded pad,
                      int32_t first, int32_t n, int32_t* acc) {
  const int32_t blocks = packed[R8_X86_BLOCKS], width = R8_X86_BLOCK * blocks;
  const r8_x86_windows g = r8_x86_windows_of(p, packed[R8_X86_C4], pad, first, n, R8_TILE);
  const int16_t* const origin = (const int16_t*)image + g.origin;
  const int16_t* w = (const int16_t*)r8_x86_filters(packed);
  int32_t b, ky, k, px;
  for (b = 0; b < blocks; ++b) {
    __m256i a[R8_TILE][2];
    for (px = 0; px < R8_TILE; ++px) a[px][0] = a[px][1] = _mm256_setzero_si256();
    for (ky = 0; ky < p->kernel_h; ++ky) {
      const int16_t* const r = origin + ky * g.row;
      for (k = 0; k < g.run; k += 2, w += 2 * R8_X86_BLOCK) {
        const __m256i w0 = _mm256_loadu_si256((const __m256i*)w), w1 = _mm256_loadu_si256((const __m256i*)(w + 16));
        for (px = 0; px < R8_TILE; ++px) {
          int32_t pair;
          __builtin_memcpy(&pair, r + g.offset[px] + k, 4);
          const __m256i v = _mm256_set1_epi32(pair);
          a[px][0] = _mm256_add_epi32(a[px][0], _mm256_madd_epi16(v, w0));
          a[px][1] = _mm256_add_epi32(a[px][1], _mm256_madd_epi16(v, w1));
        }
      }
    }
    for (px = 0; px < R8_TILE; ++px) {
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

int32_t r8_x86_outputs_avx2(const r8_conv_params* p, const int32_t* packed, const int32_t* acc, int32_t from,
                            int8_t* out) {
  int32_t oc;
  for (oc = from; oc + 8 <= p->output.channels; oc += 8) {
    const __m256i x = r8_result8(p, packed, oc, _mm256_loadu_si256((const __m256i*)(acc + oc)), out);
    const __m128i halves = _mm_packs_epi32(_mm256_castsi256_si128(x), _mm256_extracti128_si256(x, 1));
    _mm_storel_epi64((__m128i*)(out + oc), _mm_packs_epi16(halves, halves)); /* values are in -128..127 */
  }
  return oc;
}

/* The short form (r8_x86.h), eight lanes: r8_srdhm8 with the odd lanes' multipliers given, then
 * (y + round + (sign & (y >> 31))) >> right. */
static __m256i r8_short8(__m256i x, __m256i m, __m256i m_odd, __m256i round, __m256i sign, __m256i right) {
  const __m256i nudge = _mm256_set1_epi64x((int64_t)1 << 30);
  const __m256i even = _mm256_add_epi64(_mm256_mul_epi32(x, m), nudge);
  const __m256i odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), m_odd), nudge);
  const __m256i y = _mm256_blend_epi32(_mm256_srli_epi64(even, 31), _mm256_slli_epi64(odd, 1), 0xAA);
  const __m256i rounded =
      _mm256_add_epi32(_mm256_add_epi32(y, round), _mm256_and_si256(sign, _mm256_srai_epi32(y, 31)));
  return _mm256_srav_epi32(rounded, right);
}

static __m256i r8_vec8(int32_t v) { return _mm256_set1_epi32(v); }

/* One rescaling of the fused ADD in the short form: multiplier, and shift <= 0. */
typedef struct {
  __m256i m, round, sign, right;
} r8_rescale8;

static r8_rescale8 r8_rescale8_of(int32_t multiplier, int32_t shift) {
  r8_rescale8 r;
  r.m = r8_vec8(multiplier), r.right = r8_vec8(-shift);
  r.round = r8_vec8(shift < 0 ? 1 << (-shift - 1) : 0), r.sign = r8_vec8(shift < 0 ? -1 : 0);
  return r;
}

static __m256i r8_rescale8_apply(const r8_rescale8* r, __m256i x) {
  return r8_short8(x, r->m, r->m, r->round, r->sign, r->right);
}

typedef struct {
  r8_rescale8 in1, in2, out;
  __m256i offset1, offset2, output_offset, lo, hi;
  __m128i left;
} r8_add8_short;

static __m256i r8_add8_short_apply(const r8_add8_short* a, __m256i in1, __m256i in2) {
  const __m256i s1 = _mm256_sll_epi32(_mm256_add_epi32(in1, a->offset1), a->left);
  const __m256i s2 = _mm256_sll_epi32(_mm256_add_epi32(in2, a->offset2), a->left);
  const __m256i sum = _mm256_add_epi32(r8_rescale8_apply(&a->in1, s1), r8_rescale8_apply(&a->in2, s2));
  const __m256i out = _mm256_add_epi32(r8_rescale8_apply(&a->out, sum), a->output_offset);
  return _mm256_min_epi32(_mm256_max_epi32(out, a->lo), a->hi);
}

static __m256i r8_table8(const int32_t* packed, int32_t table, int32_t oc) {
  return _mm256_loadu_si256((const __m256i*)(r8_x86_table(packed, table) + oc));
}

static void r8_store8(int8_t* to, __m256i x) { /* values in -128..127 */
  const __m128i halves = _mm_packs_epi32(_mm256_castsi256_si128(x), _mm256_extracti128_si256(x, 1));
  _mm_storel_epi64((__m128i*)to, _mm_packs_epi16(halves, halves));
}

int32_t r8_x86_outputs_avx2_short(const r8_conv_params* p, const int32_t* packed, const int32_t* acc, int32_t n,
                                  int8_t* out) {
  const int32_t channels = p->output.channels, width = R8_X86_BLOCK * packed[R8_X86_BLOCKS], add_input = p->add_input;
  const __m256i output_offset = r8_vec8(p->output_offset), lo = r8_vec8(p->act_min), hi = r8_vec8(p->act_max);
  const int fused = p->add != 0;
  r8_add8_short a;
  int32_t oc, px;
  if (fused) {
    a.in1 = r8_rescale8_of(p->add->input1_multiplier, p->add->input1_shift);
    a.in2 = r8_rescale8_of(p->add->input2_multiplier, p->add->input2_shift);
    a.out = r8_rescale8_of(p->add->output_multiplier, p->add->output_shift);
    a.offset1 = r8_vec8(p->add->input1_offset), a.offset2 = r8_vec8(p->add->input2_offset);
    a.output_offset = r8_vec8(p->add->output_offset), a.lo = r8_vec8(p->add->act_min), a.hi = r8_vec8(p->add->act_max);
    a.left = _mm_cvtsi32_si128(p->add->left_shift);
  }
  for (oc = 0; oc + 8 <= channels; oc += 8) {
    const __m256i net = r8_table8(packed, R8_X86_NET, oc), left = r8_table8(packed, R8_X86_LEFT, oc);
    const __m256i m = r8_table8(packed, R8_X86_MULTIPLIER, oc), m_odd = r8_table8(packed, R8_X86_MULTIPLIER_ODD, oc);
    const __m256i round = r8_table8(packed, R8_X86_ROUND, oc), sign = r8_table8(packed, R8_X86_SIGN, oc);
    const __m256i right = r8_table8(packed, R8_X86_RIGHT, oc);
    for (px = 0; px < n; ++px) {
      int8_t* const o = out + px * channels + oc;
      const __m256i sums = _mm256_loadu_si256((const __m256i*)(acc + px * width + oc));
      const __m256i x = _mm256_sllv_epi32(_mm256_add_epi32(sums, net), left);
      __m256i y = _mm256_add_epi32(r8_short8(x, m, m_odd, round, sign, right), output_offset);
      y = _mm256_min_epi32(_mm256_max_epi32(y, lo), hi);
      if (fused) {
        const __m256i residual = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i*)o));
        y = add_input == 1 ? r8_add8_short_apply(&a, y, residual) : r8_add8_short_apply(&a, residual, y);
      }
      r8_store8(o, y);
    }
  }
  return oc;
}

void r8_x86_mbqm8_short(const int32_t* x, const int32_t* multiplier, const int32_t* shift, int32_t* out) {
  int32_t t[R8_X86_TABLES * 8] = {0};
  r8_x86_requant_tables(multiplier, shift, 8, 8, t);
  _mm256_storeu_si256((__m256i*)out,
                      r8_short8(_mm256_sllv_epi32(_mm256_loadu_si256((const __m256i*)x),
                                                  _mm256_loadu_si256((const __m256i*)(t + R8_X86_LEFT * 8))),
                                _mm256_loadu_si256((const __m256i*)(t + R8_X86_MULTIPLIER * 8)),
                                _mm256_loadu_si256((const __m256i*)(t + R8_X86_MULTIPLIER_ODD * 8)),
                                _mm256_loadu_si256((const __m256i*)(t + R8_X86_ROUND * 8)),
                                _mm256_loadu_si256((const __m256i*)(t + R8_X86_SIGN * 8)),
                                _mm256_loadu_si256((const __m256i*)(t + R8_X86_RIGHT * 8))));
}

#else /* not built for AVX2: never called (r8_x86_supported) */
void r8_x86_copy_avx2(const int8_t* from, int32_t n, int8_t zero, void* to) {
  (void)from, (void)n, (void)zero, (void)to;
}
void r8_x86_dots_avx2(const r8_conv_params* p, const int32_t* packed, const void* image, r8_x86_padded pad,
                      int32_t first, int32_t n, int32_t* acc) {
  (void)p, (void)packed, (void)image, (void)pad, (void)first, (void)n, (void)acc;
}
int32_t r8_x86_outputs_avx2(const r8_conv_params* p, const int32_t* packed, const int32_t* acc, int32_t from,
                            int8_t* out) {
  (void)p, (void)packed, (void)acc, (void)out;
  return from;
}
void r8_x86_mbqm8(const int32_t* x, const int32_t* multiplier, const int32_t* shift, int32_t* out) {
  (void)x, (void)multiplier, (void)shift, (void)out;
}
void r8_x86_mbqm8_short(const int32_t* x, const int32_t* multiplier, const int32_t* shift, int32_t* out) {
  (void)x, (void)multiplier, (void)shift, (void)out;
}
int32_t r8_x86_outputs_avx2_short(const r8_conv_params* p, const int32_t* packed, const int32_t* acc, int32_t n,
                                  int8_t* out) {
  (void)p, (void)packed, (void)acc, (void)n, (void)out;
  return 0;
}
#endif
