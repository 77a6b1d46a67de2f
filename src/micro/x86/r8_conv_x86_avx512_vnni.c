/* CONV_2D, the AVX-512 VNNI level (r8_x86.h): dot products by VPDPBUSD, eight output pixels by 16 channels a
 * step, 64 multiply-accumulates an instruction. VPDPBUSD multiplies unsigned by signed bytes, so the padded
 * image holds x + 128 (x XOR 0x80) and 128 x the filter's sum, formed at packing (the OFFSET table), comes off
 * before the requantization. Its int32 sums of four products do not saturate. Requantization 16 lanes wide, in
 * the short form. Built with -mavx512f -mavx512bw
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
#define R8_TILE R8_X86_TILE_AVX512_VNNI

void r8_x86_dots_avx512_vnni(const r8_conv_params* p, const int32_t* packed, const void* image, r8_x86_padded pad,
                             int32_t first, int32_t n, int32_t* acc) {
  const int32_t blocks = packed[R8_X86_BLOCKS], width = R8_X86_BLOCK * blocks;
  const r8_x86_windows g = r8_x86_windows_of(p, packed[R8_X86_C4], pad, first, n, R8_TILE);
  const uint8_t* const origin = (const uint8_t*)image + g.origin;
  const int8_t* w = (const int8_t*)r8_x86_filters(packed);
  int32_t b, ky, k, px;
  for (b = 0; b < blocks; ++b) {
    __m512i a[R8_TILE];
    for (px = 0; px < R8_TILE; ++px) a[px] = _mm512_setzero_si512();
    for (ky = 0; ky < p->kernel_h; ++ky) {
      const uint8_t* const r = origin + ky * g.row;
      for (k = 0; k < g.run; k += 4, w += 4 * R8_X86_BLOCK) {
        const __m512i weights = _mm512_loadu_si512(w);
        for (px = 0; px < R8_TILE; ++px) {
          int32_t quad;
          __builtin_memcpy(&quad, r + g.offset[px] + k, 4);
          a[px] = _mm512_dpbusd_epi32(a[px], _mm512_set1_epi32(quad), weights);
        }
      }
    }
    for (px = 0; px < R8_TILE; ++px) _mm512_storeu_si512(acc + px * width + b * R8_X86_BLOCK, a[px]);
  }
}

static __m512i r8_table16(const int32_t* packed, int32_t table, int32_t oc) {
  return _mm512_loadu_si512(r8_x86_table(packed, table) + oc);
}

/* The requantization of step 3 in the short form (r8_x86.h), 16 lanes: r8_srdhm lane by lane as
 * (x x m + 2^30) >> 31 in 64 bits, the odd lanes' multipliers given, then the rounding shift as
 * (y + round + (sign & (y >> 31))) >> right. A layer outside the short form is requantized 8 lanes at a time by
 * r8_conv_x86_avx2.c (it takes nothing that holds in practice: sums of 2^30 and more). */
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
  int32_t t[R8_X86_TABLES * 16] = {0};
  r8_x86_requant_tables(multiplier, shift, 16, 16, t);
  _mm512_storeu_si512(
      out, r8_short16(_mm512_sllv_epi32(_mm512_loadu_si512(x), _mm512_loadu_si512(t + R8_X86_LEFT * 16)),
                      _mm512_loadu_si512(t + R8_X86_MULTIPLIER * 16),
                      _mm512_loadu_si512(t + R8_X86_MULTIPLIER_ODD * 16), _mm512_loadu_si512(t + R8_X86_ROUND * 16),
                      _mm512_loadu_si512(t + R8_X86_SIGN * 16), _mm512_loadu_si512(t + R8_X86_RIGHT * 16)));
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
  return packed[R8_X86_SHORT] ? r8_outputs_short(p, packed, acc, n, out) : 0;
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
void r8_x86_mbqm16_short(const int32_t* x, const int32_t* multiplier, const int32_t* shift, int32_t* out) {
  (void)x, (void)multiplier, (void)shift, (void)out;
}
#endif
