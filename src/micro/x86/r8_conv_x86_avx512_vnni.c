/* CONV_2D, the AVX-512 VNNI level (r8_x86.h): dot products by VPDPBUSD, eight output pixels by 16 channels a
 * step, 64 multiply-accumulates an instruction. VPDPBUSD multiplies unsigned by signed bytes, so the padded
 * image holds x + 128 (x XOR 0x80) and 128 x the filter's sum, formed at packing (the OFFSET table), comes off
 * before the requantization. Its int32 sums of four products do not saturate. Built with -mavx512f -mavx512bw
 * -mavx512vl -mavx512vnni; called only when the CPU has them (r8_x86_supported). */
#include "r8_x86.h"

#if defined(__x86_64__) && defined(__AVX512VNNI__) && defined(__AVX512F__)
#include <immintrin.h>

void r8_x86_copy_avx512_vnni(const int8_t* from, int32_t n, int8_t zero, void* to) {
  const __m512i flip = _mm512_set1_epi8((char)0x80), z = _mm512_set1_epi8((char)(zero ^ 0x80));
  uint8_t* out = (uint8_t*)to;
  int32_t i;
  for (i = 0; i < n; i += 64) {
    const __mmask64 m = n - i >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << (n - i)) - 1;
    const __m512i v = from ? _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, from + i), flip) : z;
    _mm512_mask_storeu_epi8(out + i, m, v);
  }
}

/* Output pixels a tile: eight, each with one block of 16 channels' sums in a register. */
#define R8_TILE 8

void r8_x86_dots_avx512_vnni(const r8_conv_params* p, const int32_t* packed, const void* image, r8_x86_padded pad,
                             int32_t first, int32_t n, int32_t* acc) {
  const int32_t c4 = packed[R8_X86_C4], blocks = packed[R8_X86_BLOCKS], width = R8_X86_BLOCK * blocks;
  const int32_t run = p->kernel_w * c4, row = pad.width * c4, oy = first / p->output.width;
  const int32_t ox = first % p->output.width;
  const uint8_t* const origin = (const uint8_t*)image + (oy * p->stride_h * pad.width + ox * p->stride_w) * c4;
  const int8_t* w = (const int8_t*)r8_x86_filters(packed);
  int32_t offset[R8_TILE], b, ky, k, px;
  for (px = 0; px < R8_TILE; ++px) offset[px] = (px < n ? px : n - 1) * p->stride_w * c4; /* past n: repeated */
  for (b = 0; b < blocks; ++b) {
    __m512i a[R8_TILE];
    for (px = 0; px < R8_TILE; ++px) a[px] = _mm512_setzero_si512();
    for (ky = 0; ky < p->kernel_h; ++ky) {
      const uint8_t* const r = origin + ky * row;
      for (k = 0; k < run; k += 4, w += 4 * R8_X86_BLOCK) {
        const __m512i weights = _mm512_loadu_si512(w);
        for (px = 0; px < R8_TILE; ++px) {
          int32_t quad;
          __builtin_memcpy(&quad, r + offset[px] + k, 4);
          a[px] = _mm512_dpbusd_epi32(a[px], _mm512_set1_epi32(quad), weights);
        }
      }
    }
    for (px = 0; px < R8_TILE; ++px) _mm512_storeu_si512(acc + px * width + b * R8_X86_BLOCK, a[px]);
  }
}

/* The requantization of step 3, 16 lanes at a time: r8_conv_x86_avx2.c's arithmetic (r8_fixedpoint.h's, lane by
 * lane) in AVX-512, whose compares give masks. */
static __m512i r8_srdhm16(__m512i a, __m512i b) {
  const __m512i nudge = _mm512_set1_epi64((int64_t)1 << 30);
  const __m512i even = _mm512_add_epi64(_mm512_mul_epi32(a, b), nudge);
  const __m512i odd = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(a, 32), _mm512_srli_epi64(b, 32)), nudge);
  return _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 31),
                                 _mm512_slli_epi64(_mm512_srli_epi64(odd, 31), 32));
}

static __m512i r8_rdbpot16(__m512i x, __m512i exponent) {
  const __m512i one = _mm512_set1_epi32(1);
  const __m512i mask = _mm512_sub_epi32(_mm512_sllv_epi32(one, exponent), one);
  const __m512i remainder = _mm512_and_si512(x, mask), half = _mm512_srli_epi32(mask, 1);
  const __m512i threshold = _mm512_mask_add_epi32(half, _mm512_cmplt_epi32_mask(x, _mm512_setzero_si512()), half, one);
  const __m512i shifted = _mm512_srav_epi32(x, exponent);
  return _mm512_mask_add_epi32(shifted, _mm512_cmpgt_epi32_mask(remainder, threshold), shifted, one);
}

static __m512i r8_mbqm16(__m512i x, __m512i multiplier, __m512i left, __m512i right) {
  return r8_rdbpot16(r8_srdhm16(_mm512_sllv_epi32(x, left), multiplier), right);
}

void r8_x86_mbqm16(const int32_t* x, const int32_t* multiplier, const int32_t* shift, int32_t* out) {
  const __m512i s = _mm512_loadu_si512(shift), zero = _mm512_setzero_si512();
  const __m512i y = r8_mbqm16(_mm512_loadu_si512(x), _mm512_loadu_si512(multiplier), _mm512_max_epi32(s, zero),
                              _mm512_max_epi32(_mm512_sub_epi32(zero, s), zero));
  _mm512_storeu_si512(out, y);
}

static __m512i r8_clamp16(__m512i x, int32_t lo, int32_t hi) {
  return _mm512_min_epi32(_mm512_max_epi32(x, _mm512_set1_epi32(lo)), _mm512_set1_epi32(hi));
}

static __m512i r8_mbqm_lt1_16(__m512i x, int32_t multiplier, int32_t left_shift) {
  return r8_rdbpot16(r8_srdhm16(x, _mm512_set1_epi32(multiplier)), _mm512_set1_epi32(-left_shift));
}

static __m512i r8_add16(const r8_add_params* p, __m512i in1, __m512i in2) {
  const __m128i left = _mm_cvtsi32_si128(p->left_shift);
  const __m512i s1 = _mm512_sll_epi32(_mm512_add_epi32(in1, _mm512_set1_epi32(p->input1_offset)), left);
  const __m512i s2 = _mm512_sll_epi32(_mm512_add_epi32(in2, _mm512_set1_epi32(p->input2_offset)), left);
  const __m512i sum = _mm512_add_epi32(r8_mbqm_lt1_16(s1, p->input1_multiplier, p->input1_shift),
                                       r8_mbqm_lt1_16(s2, p->input2_multiplier, p->input2_shift));
  const __m512i out =
      _mm512_add_epi32(r8_mbqm_lt1_16(sum, p->output_multiplier, p->output_shift), _mm512_set1_epi32(p->output_offset));
  return r8_clamp16(out, p->act_min, p->act_max);
}

static __m512i r8_table16(const int32_t* packed, int32_t table, int32_t oc) {
  return _mm512_loadu_si512(r8_x86_table(packed, table) + oc);
}

/* The short form (r8_x86.h): r8_srdhm16 with the odd lanes' multipliers given, then the rounding shift as
 * (y + round + (sign & (y >> 31))) >> right. */
static __m512i r8_short16(__m512i x, __m512i m, __m512i m_odd, __m512i round, __m512i sign, __m512i right) {
  const __m512i nudge = _mm512_set1_epi64((int64_t)1 << 30);
  const __m512i even = _mm512_add_epi64(_mm512_mul_epi32(x, m), nudge);
  const __m512i odd = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(x, 32), m_odd), nudge);
  const __m512i y = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 31), _mm512_slli_epi64(odd, 1));
  const __m512i rounded =
      _mm512_add_epi32(_mm512_add_epi32(y, round), _mm512_and_si512(sign, _mm512_srai_epi32(y, 31)));
  return _mm512_srav_epi32(rounded, right);
}

void r8_x86_mbqm16_short(const int32_t* x, const int32_t* multiplier, const int32_t* shift, int32_t* out) {
  int32_t m_odd[16], round[16], sign[16], left[16], right[16], i;
  for (i = 0; i < 16; ++i) {
    m_odd[i] = i % 2 == 0 ? multiplier[i + 1] : 0;
    left[i] = shift[i] > 0 ? shift[i] : 0, right[i] = shift[i] > 0 ? 0 : -shift[i];
    round[i] = right[i] > 0 ? 1 << (right[i] - 1) : 0, sign[i] = right[i] > 0 ? -1 : 0;
  }
  _mm512_storeu_si512(out, r8_short16(_mm512_sllv_epi32(_mm512_loadu_si512(x), _mm512_loadu_si512(left)),
                                      _mm512_loadu_si512(multiplier), _mm512_loadu_si512(m_odd),
                                      _mm512_loadu_si512(round), _mm512_loadu_si512(sign), _mm512_loadu_si512(right)));
}

/* The fused ADD's parameters as vectors, in the short form. */
typedef struct {
  __m512i offset1, offset2, m1, m2, mo, round1, round2, roundo, sign1, sign2, signo, right1, right2, righto;
  __m512i output_offset, lo, hi;
  __m128i left;
} r8_add16_short;

static __m512i r8_vec(int32_t v) { return _mm512_set1_epi32(v); }

static r8_add16_short r8_add16_short_of(const r8_add_params* p) {
  r8_add16_short a;
  a.offset1 = r8_vec(p->input1_offset), a.offset2 = r8_vec(p->input2_offset);
  a.m1 = r8_vec(p->input1_multiplier), a.m2 = r8_vec(p->input2_multiplier), a.mo = r8_vec(p->output_multiplier);
  a.right1 = r8_vec(-p->input1_shift), a.right2 = r8_vec(-p->input2_shift), a.righto = r8_vec(-p->output_shift);
  a.round1 = r8_vec(p->input1_shift < 0 ? 1 << (-p->input1_shift - 1) : 0);
  a.round2 = r8_vec(p->input2_shift < 0 ? 1 << (-p->input2_shift - 1) : 0);
  a.roundo = r8_vec(p->output_shift < 0 ? 1 << (-p->output_shift - 1) : 0);
  a.sign1 = r8_vec(p->input1_shift < 0 ? -1 : 0), a.sign2 = r8_vec(p->input2_shift < 0 ? -1 : 0);
  a.signo = r8_vec(p->output_shift < 0 ? -1 : 0);
  a.output_offset = r8_vec(p->output_offset), a.lo = r8_vec(p->act_min), a.hi = r8_vec(p->act_max);
  a.left = _mm_cvtsi32_si128(p->left_shift);
  return a;
}

static __m512i r8_add16_short_apply(const r8_add16_short* a, __m512i in1, __m512i in2) {
  const __m512i s1 = _mm512_sll_epi32(_mm512_add_epi32(in1, a->offset1), a->left);
  const __m512i s2 = _mm512_sll_epi32(_mm512_add_epi32(in2, a->offset2), a->left);
  const __m512i sum = _mm512_add_epi32(r8_short16(s1, a->m1, a->m1, a->round1, a->sign1, a->right1),
                                       r8_short16(s2, a->m2, a->m2, a->round2, a->sign2, a->right2));
  const __m512i out = _mm512_add_epi32(r8_short16(sum, a->mo, a->mo, a->roundo, a->signo, a->righto), a->output_offset);
  return _mm512_min_epi32(_mm512_max_epi32(out, a->lo), a->hi);
}

/* Step 3 for n pixels in the short form: 16 channels a step, the tables' vectors loaded once per group. */
static int32_t r8_outputs_short(const r8_conv_params* p, const int32_t* packed, const int32_t* acc, int32_t n,
                                int8_t* out) {
  const int32_t channels = p->output.channels, width = R8_X86_BLOCK * packed[R8_X86_BLOCKS], add_input = p->add_input;
  const __m512i output_offset = r8_vec(p->output_offset), lo = r8_vec(p->act_min), hi = r8_vec(p->act_max);
  const int fused = p->add != 0;
  r8_add16_short a;
  int32_t oc, px;
  if (fused) a = r8_add16_short_of(p->add);
  for (oc = 0; oc + 16 <= channels; oc += 16) {
    const __m512i net = r8_table16(packed, R8_X86_NET, oc), left = r8_table16(packed, R8_X86_LEFT, oc);
    const __m512i m = r8_table16(packed, R8_X86_MULTIPLIER, oc), m_odd = r8_table16(packed, R8_X86_MULTIPLIER_ODD, oc);
    const __m512i round = r8_table16(packed, R8_X86_ROUND, oc), sign = r8_table16(packed, R8_X86_SIGN, oc);
    const __m512i right = r8_table16(packed, R8_X86_RIGHT, oc);
    for (px = 0; px < n; ++px) {
      int8_t* const o = out + px * channels + oc;
      const __m512i x = _mm512_sllv_epi32(_mm512_add_epi32(_mm512_loadu_si512(acc + px * width + oc), net), left);
      __m512i y = _mm512_add_epi32(r8_short16(x, m, m_odd, round, sign, right), output_offset);
      y = _mm512_min_epi32(_mm512_max_epi32(y, lo), hi);
      if (fused) {
        const __m512i residual = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i*)o));
        y = add_input == 1 ? r8_add16_short_apply(&a, y, residual) : r8_add16_short_apply(&a, residual, y);
      }
      _mm_storeu_si128((__m128i*)o, _mm512_cvtepi32_epi8(y)); /* values are in -128..127 */
    }
  }
  return oc;
}

int32_t r8_x86_outputs_avx512(const r8_conv_params* p, const int32_t* packed, const int32_t* acc, int32_t n,
                              int8_t* out) {
  const int32_t width = R8_X86_BLOCK * packed[R8_X86_BLOCKS];
  int32_t oc = 0, px;
  if (packed[R8_X86_SHORT]) return r8_outputs_short(p, packed, acc, n, out);
  for (px = 0; px < n; ++px, acc += width, out += p->output.channels) {
    for (oc = 0; oc + 16 <= p->output.channels; oc += 16) {
      __m512i x = _mm512_add_epi32(_mm512_loadu_si512(acc + oc), r8_table16(packed, R8_X86_NET, oc));
      x = r8_mbqm16(x, r8_table16(packed, R8_X86_MULTIPLIER, oc), r8_table16(packed, R8_X86_LEFT, oc),
                    r8_table16(packed, R8_X86_RIGHT, oc));
      x = r8_clamp16(_mm512_add_epi32(x, _mm512_set1_epi32(p->output_offset)), p->act_min, p->act_max);
      if (p->add) {
        const __m512i residual = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i*)(out + oc)));
        x = p->add_input == 1 ? r8_add16(p->add, x, residual) : r8_add16(p->add, residual, x);
      }
      _mm_storeu_si128((__m128i*)(out + oc), _mm512_cvtepi32_epi8(x)); /* values are in -128..127 */
    }
  }
  return oc;
}

#else /* not built for AVX-512 VNNI: never called (r8_x86_supported) */
void r8_x86_copy_avx512_vnni(const int8_t* from, int32_t n, int8_t zero, void* to) {
  (void)from, (void)n, (void)zero, (void)to;
}
void r8_x86_dots_avx512_vnni(const r8_conv_params* p, const int32_t* packed, const void* image, r8_x86_padded pad,
                             int32_t first, int32_t n, int32_t* acc) {
  (void)p, (void)packed, (void)image, (void)pad, (void)first, (void)n, (void)acc;
}
int32_t r8_x86_outputs_avx512(const r8_conv_params* p, const int32_t* packed, const int32_t* acc, int32_t n,
                              int8_t* out) {
  (void)p, (void)packed, (void)acc, (void)n, (void)out;
  return 0;
}
void r8_x86_mbqm16(const int32_t* x, const int32_t* multiplier, const int32_t* shift, int32_t* out) {
  (void)x, (void)multiplier, (void)shift, (void)out;
}
void r8_x86_mbqm16_short(const int32_t* x, const int32_t* multiplier, const int32_t* shift, int32_t* out) {
  (void)x, (void)multiplier, (void)shift, (void)out;
}
#endif
