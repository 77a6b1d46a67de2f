/* SOFTMAX int8 -> int8: tflite::reference_ops::Softmax for quantized input and output (TFLM's int8 path),
 * exp and reciprocal in gemmlowp's fixed point (r8_fixedpoint.h).
 * The reference variant: portable C99, the oracle. */
#include "r8_fixedpoint.h"
#include "r8_kernels.h"
#include "r8_variants.h"

#if R8_COMPILE(R8_SOFTMAX_REFERENCE)

/* exp(diff x the input scale) in Q0.31, diff <= 0: one function for both passes over a row (smaller code). */
static int32_t r8_softmax_exp(const r8_softmax_params* p, int32_t diff) {
  return r8_exp_neg_q5(r8_mbqm_gt1(diff, p->input_multiplier, p->input_left_shift));
}

/* One row of `depth` values. */
static void r8_softmax_row(const r8_softmax_params* p, const int8_t* input, int8_t* output) {
  int32_t max_in_row = -128, c, sum_of_exps = 0, shifted_scale, exponent;
  int num_bits_over_unit;
  for (c = 0; c < p->depth; ++c) max_in_row = input[c] > max_in_row ? input[c] : max_in_row;
  for (c = 0; c < p->depth; ++c) {
    const int32_t diff = (int32_t)input[c] - max_in_row;
    if (diff >= p->diff_min) { /* Rescale<12>: the sum is kept in Q12.19 */
      sum_of_exps = r8_wrap_add(sum_of_exps, r8_rdbpot(r8_softmax_exp(p, diff), 12));
    }
  }
  shifted_scale = r8_reciprocal(sum_of_exps, 12, &num_bits_over_unit);
  exponent = num_bits_over_unit + 31 - 8;
  for (c = 0; c < p->depth; ++c) {
    const int32_t diff = (int32_t)input[c] - max_in_row;
    int32_t out = -128;
    if (diff >= p->diff_min) {
      out = r8_rdbpot(r8_srdhm(shifted_scale, r8_softmax_exp(p, diff)), exponent) - 128;
      out = out < -128 ? -128 : out > 127 ? 127 : out;
    }
    output[c] = (int8_t)out;
  }
}

void r8_softmax_reference(const r8_softmax_params* p, const int8_t* input, int8_t* output) {
  int32_t r;
  for (r = 0; r < p->rows; ++r) r8_softmax_row(p, input + r * p->depth, output + r * p->depth);
}

#endif
