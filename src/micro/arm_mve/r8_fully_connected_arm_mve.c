/* FULLY_CONNECTED, the Arm MVE (Helium) variant (Cortex-M55, M85: __ARM_FEATURE_MVE): the same integers as the
 * reference variant (r8_fully_connected_row.h), each pair of rows' dot products sixteen inputs an instruction.
 * A pair's weight stream (r8_kernels.h: rows interleaved by 4-byte units) is split into its two rows by VLD20 /
 * VLD21 (vld2q_s32); VMLADAVA sums weights x inputs and VADDVA the weights, so that the input offset is added once
 * a row: w . (x + offset) = w . x + offset x sum(w), exactly, in int32. Inputs past the depth load as zeros and
 * their weights (the row's padding) are left out of the sum. Rows it does not take go through the plain dot product:
 * int4 weights, a filter stride not a multiple of 16, weights not 4-byte aligned, the last row of an odd count. Checked
 * against the reference variant on random layers in QEMU's Cortex-M55 (tests/micro/variants_check.c, scripts/mcu.sh).
 */
#include "r8_kernels.h"
#include "r8_variants.h"

#if R8_COMPILE_MVE(R8_FULLY_CONNECTED_ARM_MVE)
#include <arm_mve.h>

#include "r8_fully_connected_row.h"

/* Rows o and o + 1 (o even) . (input + input offset) into dots[0..1]. With the stride a multiple of 16, the
 * depth's 16-input chunks are the stride's. */
static void r8_mve_fc_pair(const r8_fully_connected_params* p, const int8_t* input, int32_t o, int32_t* dots) {
  const int32_t* w = (const int32_t*)(const void*)(p->weights + o * r8_filter_stride(p->input_depth));
  int32_t left = p->input_depth, a = 0, b = 0, sum_a = 0, sum_b = 0;
  do { /* depth >= 1 */
    const mve_pred16_t in = vctp8q((uint32_t)left);
    const int8x16_t x = vldrbq_z_s8(input, in);
    const int32x4x2_t rows = vld2q_s32(w);
    const int8x16_t row_a = vreinterpretq_s8_s32(rows.val[0]), row_b = vreinterpretq_s8_s32(rows.val[1]);
    a = vmladavaq_s8(a, row_a, x), b = vmladavaq_s8(b, row_b, x);
    sum_a = vaddvaq_p_s8(sum_a, row_a, in), sum_b = vaddvaq_p_s8(sum_b, row_b, in);
    input += 16, w += 8, left -= 16;
  } while (left > 0);
  dots[0] = a + p->input_offset * sum_a, dots[1] = b + p->input_offset * sum_b;
}

void r8_fully_connected_arm_mve(const r8_fully_connected_params* p, const int8_t* input, int8_t* output) {
  const int32_t takes =
      !p->weights_int4 && (r8_filter_stride(p->input_depth) & 15) == 0 && ((uintptr_t)p->weights & 3u) == 0;
  int32_t o = 0, dots[2];
  for (; takes && o + 1 < p->output_depth; o += 2) {
    r8_mve_fc_pair(p, input, o, dots);
    output[o] = r8_fc_result(p, o, dots[0]), output[o + 1] = r8_fc_result(p, o + 1, dots[1]);
  }
  for (; o < p->output_depth; ++o) output[o] = r8_fc_result(p, o, r8_fc_dot(p, input, o));
}

#endif
