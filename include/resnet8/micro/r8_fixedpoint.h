/* resnet8 integer kernels: the fixed-point arithmetic of TensorFlow Lite Micro's reference kernels.
 *
 * Plain C99, no floating point, no library calls: the same file is compiled into resnet8's host
 * evaluator of .tflite files and emitted unchanged into the C code resnet8-ptq --c-source generates for
 * microcontrollers. Each function computes what its TFLM / gemmlowp namesake computes, bit for bit, with
 * TFLM's default double rounding (TFLITE_SINGLE_ROUNDING off):
 *   r8_srdhm         gemmlowp::SaturatingRoundingDoublingHighMul (int32)
 *   r8_rdbpot        gemmlowp::RoundingDivideByPOT
 *   r8_mbqm          tflite::MultiplyByQuantizedMultiplier (int32 x)
 *   r8_mbqm_lt1      tflite::MultiplyByQuantizedMultiplierSmallerThanOneExp
 *   r8_mbqm_gt1      tflite::MultiplyByQuantizedMultiplierGreaterThanOne
 *   r8_exp_neg_q5    gemmlowp::exp_on_negative_values for FixedPoint<int32, 5> (softmax's input)
 *   r8_reciprocal    tflite::GetReciprocal (the sum of exps' 1/x in Q0.31)
 * Assumes two's complement integers with arithmetic right shifts, as TFLM and gemmlowp do (GCC, Clang,
 * Arm compilers). Wrapping additions are written in unsigned arithmetic, where C leaves signed overflow
 * undefined and TFLM's compilers wrap.
 */
#ifndef RESNET8_MICRO_FIXEDPOINT_H
#define RESNET8_MICRO_FIXEDPOINT_H

#include <stdint.h>

/* The helpers every output element goes through: inlined even at -Os (GCC and Clang would otherwise call
 * them, which costs more instructions than they have). */
#if defined(__GNUC__)
#define R8_INLINE static inline __attribute__((always_inline))
#else
#define R8_INLINE static inline
#endif

R8_INLINE int32_t r8_wrap_add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
R8_INLINE int32_t r8_wrap_sub(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }

R8_INLINE int32_t r8_srdhm(int32_t a, int32_t b) {
  if (a == b && a == INT32_MIN) return INT32_MAX;
  const int64_t ab = (int64_t)a * (int64_t)b;
  const int32_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
  return (int32_t)((ab + nudge) / ((int64_t)1 << 31)); /* C division truncates toward zero, as C++'s */
}

R8_INLINE int32_t r8_rdbpot(int32_t x, int exponent) {
  const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

R8_INLINE int32_t r8_shl(int32_t x, int left) { return (int32_t)((uint32_t)x << left); }

R8_INLINE int32_t r8_mbqm(int32_t x, int32_t multiplier, int shift) {
  const int left = shift > 0 ? shift : 0;
  const int right = shift > 0 ? 0 : -shift;
  return r8_rdbpot(r8_srdhm(r8_shl(x, left), multiplier), right);
}

R8_INLINE int32_t r8_mbqm_lt1(int32_t x, int32_t multiplier, int left_shift) {
  return r8_rdbpot(r8_srdhm(x, multiplier), -left_shift);
}

R8_INLINE int32_t r8_mbqm_gt1(int32_t x, int32_t multiplier, int left_shift) {
  return r8_srdhm(r8_shl(x, left_shift), multiplier);
}

/* gemmlowp::SaturatingRoundingMultiplyByPOT<exponent> for exponent > 0: a saturating left shift. */
static inline int32_t r8_sat_shl(int32_t x, int exponent) {
  const int32_t threshold = (int32_t)(((int64_t)1 << (31 - exponent)) - 1);
  if (x > threshold) return INT32_MAX;
  if (x < -threshold) return INT32_MIN;
  return r8_shl(x, exponent);
}

/* gemmlowp::exp_on_interval_between_negative_one_quarter_and_0_excl, Q0.31 in and out. */
static inline int32_t r8_exp_quarter(int32_t a) {
  const int32_t constant_term = 1895147668;    /* exp(-1/8) */
  const int32_t constant_1_over_3 = 715827883; /* 1/3 */
  const int32_t x = r8_wrap_add(a, 1 << 28);   /* a + 1/8 */
  const int32_t x2 = r8_srdhm(x, x);
  const int32_t x3 = r8_srdhm(x2, x);
  const int32_t x4 = r8_srdhm(x2, x2);
  const int32_t x4_over_4 = r8_rdbpot(x4, 2);
  const int32_t poly = r8_rdbpot(r8_wrap_add(r8_srdhm(r8_wrap_add(x4_over_4, x3), constant_1_over_3), x2), 1);
  return r8_wrap_add(constant_term, r8_srdhm(constant_term, r8_wrap_add(x, poly)));
}

/* gemmlowp::exp_on_negative_values for a Q5.26 input (softmax's kScaledDiffIntegerBits = 5): exp(a) in
 * Q0.31 for a <= 0. */
static inline int32_t r8_exp_neg_q5(int32_t a) {
  static const int32_t multipliers[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
  const int fractional_bits = 26;
  const int32_t one_quarter = (int32_t)1 << (fractional_bits - 2);
  const int32_t a_mod_quarter_minus_one_quarter = r8_wrap_sub(a & (one_quarter - 1), one_quarter);
  int32_t result = r8_exp_quarter(r8_sat_shl(a_mod_quarter_minus_one_quarter, 5)); /* Rescale<0> from Q5 */
  const int32_t remainder = r8_wrap_sub(a_mod_quarter_minus_one_quarter, a);
  int k;
  for (k = 0; k < 7; ++k) { /* exp(-2^e) for e = -2 .. 4, the bits of the remainder */
    if (remainder & ((int32_t)1 << (fractional_bits - 2 + k))) result = r8_srdhm(result, multipliers[k]);
  }
  return a == 0 ? INT32_MAX : result;
}

static inline int r8_clz32(uint32_t x) {
  int n = 0;
  if (x == 0) return 32;
  while (!(x & 0x80000000u)) {
    x <<= 1;
    ++n;
  }
  return n;
}

/* gemmlowp::one_over_one_plus_x_for_x_in_0_1, Q0.31 in and out (Newton-Raphson in Q2.29). */
static inline int32_t r8_one_over_one_plus_x(int32_t a) {
  const int64_t sum = (int64_t)a + INT32_MAX; /* RoundingHalfSum(a, One) */
  const int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
  const int32_t one_q2 = (int32_t)1 << 29;
  int32_t x = r8_wrap_add(1515870810, r8_srdhm(half_denominator, -1010580540)); /* 48/17 - 32/17 d */
  int i;
  for (i = 0; i < 3; ++i) {
    const int32_t one_minus_dx = r8_wrap_sub(one_q2, r8_srdhm(half_denominator, x));
    x = r8_wrap_add(x, r8_sat_shl(r8_srdhm(x, one_minus_dx), 2)); /* Rescale<2> from Q4 */
  }
  return r8_sat_shl(x, 1); /* Rescale<0>(ExactMulByPot<-1>(x)) */
}

/* tflite::GetReciprocal: 1/x for x in Q(integer_digits).(31 - integer_digits), as a Q0.31 scale and the
 * number of bits x has above 1. */
static inline int32_t r8_reciprocal(int32_t x, int integer_digits, int* num_bits_over_unit) {
  const int headroom_plus_one = r8_clz32((uint32_t)x);
  *num_bits_over_unit = integer_digits - headroom_plus_one;
  return r8_one_over_one_plus_x((int32_t)(((uint32_t)x << headroom_plus_one) - ((uint32_t)1 << 31)));
}

#endif /* RESNET8_MICRO_FIXEDPOINT_H */
