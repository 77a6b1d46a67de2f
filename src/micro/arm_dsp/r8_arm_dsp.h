/* resnet8 integer kernels, the Arm DSP variant's building blocks: the DSP extension's instructions as inline
 * functions, and TFLM's requantization in a few of them.
 *
 * On a core with the DSP extension (__ARM_FEATURE_DSP) each function is one instruction; elsewhere (resnet8's
 * host library, R8_ALL_VARIANTS) it is the instruction's exact meaning in portable C, so that the host tests run
 * the arm_dsp variant against the reference on the same inputs. */
#ifndef RESNET8_MICRO_ARM_DSP_H
#define RESNET8_MICRO_ARM_DSP_H

#include <stdint.h>

#include "r8_fixedpoint.h"
#include "r8_kernels.h"

/* A helper kept out of line, so that the compiler allocates its loop's registers alone (GCC at -Os otherwise
 * inlines a function called once and spills the merged loop's values to the stack). */
#if defined(__GNUC__)
#define R8_NOINLINE static __attribute__((noinline))
#else
#define R8_NOINLINE static
#endif

#if defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>

/* Bytes 0 and 2 of x, sign-extended to two 16-bit halves (SXTB16). */
R8_INLINE uint32_t r8_sxtb16(uint32_t x) { return (uint32_t)__sxtb16((int32_t)x); }
/* Bytes 1 and 3 of x, sign-extended (SXTB16 with ROR #8). */
R8_INLINE uint32_t r8_sxtb16_ror8(uint32_t x) {
  uint32_t r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
  return r;
}
/* acc + a.lo x b.lo + a.hi x b.hi, the halves signed 16-bit (SMLAD; no overflow at the sizes used here). */
R8_INLINE int32_t r8_smlad(uint32_t a, uint32_t b, int32_t acc) { return __smlad((int32_t)a, (int32_t)b, acc); }
/* The high word of a x b, rounded: (a x b + 2^31) >> 32 (SMMULR). */
R8_INLINE int32_t r8_smmulr(int32_t a, int32_t b) {
  int32_t r;
  __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
  return r;
}

#else

R8_INLINE uint32_t r8_sxtb16(uint32_t x) {
  return (uint32_t)(uint16_t)(int16_t)(int8_t)(x & 0xFFu) | (uint32_t)(uint16_t)(int16_t)(int8_t)(x >> 16) << 16;
}
R8_INLINE uint32_t r8_sxtb16_ror8(uint32_t x) { return r8_sxtb16(x >> 8 | x << 24); }
R8_INLINE int32_t r8_smlad(uint32_t a, uint32_t b, int32_t acc) {
  const int32_t lo = (int32_t)(int16_t)(a & 0xFFFFu) * (int32_t)(int16_t)(b & 0xFFFFu);
  const int32_t hi = (int32_t)(int16_t)(a >> 16) * (int32_t)(int16_t)(b >> 16);
  return (int32_t)((uint32_t)acc + (uint32_t)lo + (uint32_t)hi);
}
R8_INLINE int32_t r8_smmulr(int32_t a, int32_t b) {
  return (int32_t)(((int64_t)a * (int64_t)b + ((int64_t)1 << 31)) >> 32);
}

#endif

/* TFLM's MultiplyByQuantizedMultiplier (r8_mbqm: SaturatingRoundingDoublingHighMul, then RoundingDivideByPOT)
 * for a multiplier of shift <= 0, computed as
 *     y = SMMULR(2x, multiplier)                 = floor((x m + 2^30) / 2^31), TFLM's first rounding exactly
 *     (y + round + (sign_mask & (y >> 31))) >> right
 *                                                = RoundingDivideByPOT(y, right), the second
 * with right = -shift, round = 2^(right - 1) and sign_mask = -1 for right >= 1, both 0 for right = 0 (r8_requant
 * makes them). Exact for |x| < 2^30 (so that 2x fits) and -31 <= shift <= 0: the caller guarantees it
 * (r8_conv_params::fast_requant; r8_add_fast_of for an ADD). tests/micro/variants_check.c compares it with r8_mbqm
 * on edge cases and millions of random operands.
 *
 * Why it is TFLM's arithmetic: SaturatingRoundingDoublingHighMul(x, m) is (x m + nudge) / 2^31 truncated, nudge
 * 2^30 or 1 - 2^30 by the sign of x m, which is floor((x m + 2^30) / 2^31) for either sign; SMMULR(2x, m) is
 * floor((2 x m + 2^31) / 2^32), the same. RoundingDivideByPOT(y, e) adds 1 to y >> e when the remainder
 * y & (2^e - 1) exceeds 2^(e-1) - 1, or 2^(e-1) for a negative y: floor((y + 2^(e-1) - [y < 0]) / 2^e). */
typedef struct {
  int32_t multiplier, right, round, sign_mask;
} r8_requant;

R8_INLINE r8_requant r8_requant_of(int32_t multiplier, int32_t shift) { /* -31 <= shift <= 0 */
  r8_requant q;
  q.multiplier = multiplier;
  q.right = -shift;
  q.round = shift < 0 ? (int32_t)1 << (-shift - 1) : 0;
  q.sign_mask = shift < 0 ? -1 : 0;
  return q;
}

R8_INLINE int32_t r8_requant_fast(int32_t x, const r8_requant* q) {
  const int32_t y = r8_smmulr(x * 2, q->multiplier);
  return (y + q->round + (q->sign_mask & (y >> 31))) >> q->right;
}

/* TFLM's ADD (r8_add_element) in the short form: its three rescalings by r8_requant_fast, valid when the left
 * shift is at most 20 (each rescaled input below 255 x 2^20 = 2^28, their sum below 2^29) and no shift is above
 * 0 (TFLM's ADD multipliers are below 1). */
typedef struct {
  r8_requant input1, input2, output;
  int32_t input1_offset, input2_offset, output_offset, left_shift, act_min, act_max;
} r8_add_fast;

/* Fills `f` from `p`; returns 0 (and leaves r8_add_element to the caller) when the short form does not apply. */
R8_INLINE int r8_add_fast_of(const struct r8_add_params_s* p, r8_add_fast* f) {
  if (p->left_shift < 0 || p->left_shift > 20) return 0;
  if (p->input1_shift > 0 || p->input2_shift > 0 || p->output_shift > 0) return 0;
  if (p->input1_shift < -31 || p->input2_shift < -31 || p->output_shift < -31) return 0;
  f->input1 = r8_requant_of(p->input1_multiplier, p->input1_shift);
  f->input2 = r8_requant_of(p->input2_multiplier, p->input2_shift);
  f->output = r8_requant_of(p->output_multiplier, p->output_shift);
  f->input1_offset = p->input1_offset, f->input2_offset = p->input2_offset, f->output_offset = p->output_offset;
  f->left_shift = p->left_shift, f->act_min = p->act_min, f->act_max = p->act_max;
  return 1;
}

R8_INLINE int32_t r8_add_fast_element(const r8_add_fast* f, int32_t input1, int32_t input2) {
  const int32_t scaled1 = r8_requant_fast(r8_shl(input1 + f->input1_offset, f->left_shift), &f->input1);
  const int32_t scaled2 = r8_requant_fast(r8_shl(input2 + f->input2_offset, f->left_shift), &f->input2);
  const int32_t out = r8_requant_fast(scaled1 + scaled2, &f->output) + f->output_offset;
  return out < f->act_min ? f->act_min : out > f->act_max ? f->act_max : out;
}

/* A 32-bit load from any address (one LDR on a Cortex-M, which allows unaligned words). */
R8_INLINE uint32_t r8_load32(const void* p) {
  uint32_t v;
  __builtin_memcpy(&v, p, 4);
  return v;
}

/* The dot products of one pair of output pixels (a, b) with `pairs` pairs of filter rows, for CONV_2D
 * (r8_conv_arm_dsp_dot.c). `weights` is the first pair's stream in the kernels' layout (r8_kernels.h), the
 * following pairs after it; `patches` the two pixels' patches as 16-bit pairs, 4 words per 4 inputs: pixel a's
 * (x0, x2) and (x1, x3), then pixel b's (r8_conv_arm_dsp.c; for int4 filters, scaled per group of 8 inputs as
 * that file says); `stride` the filter stride, a multiple of 8. Writes sums_a[r] = a . row r and sums_b[r] =
 * b . row r for the 2 x `pairs` rows: int8 exactly, int4 times 256 with the rows' nibbles n = w + 8. */
void r8_dsp_dot_int8(const int8_t* weights, const uint32_t* patches, int32_t stride, int32_t pairs, int32_t* sums_a,
                     int32_t* sums_b);
void r8_dsp_dot_int4(const int8_t* weights, const uint32_t* patches, int32_t stride, int32_t pairs, int32_t* sums_a,
                     int32_t* sums_b);
/* The same in portable C for `rows` (1 or 2) rows whose 4-byte units are `step` bytes apart (8 in a pair's
 * stream, 4 for the lone last row of an odd count): what the assembly computes, instruction for instruction. */
void r8_dsp_dot_rows(const int8_t* weights, int32_t step, int32_t rows, int32_t int4, const uint32_t* patches,
                     int32_t stride, int32_t* sums_a, int32_t* sums_b);

#endif /* RESNET8_MICRO_ARM_DSP_H */
