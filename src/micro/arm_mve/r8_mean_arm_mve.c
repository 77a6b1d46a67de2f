/* MEAN int8 over height and width, the Arm MVE (Helium) variant (Cortex-M55, M85: __ARM_FEATURE_MVE): the same
 * integers as the reference variant. Four channels' sums at a time, each input widened to a 32-bit lane
 * (VLDRB.S32, the lanes past the last channel off), so no sum can overflow; each output from its sum by
 * r8_mean_element (r8_kernels.h), as the reference. Checked against the reference variant on random shapes in
 * QEMU's Cortex-M55 (tests/micro/variants_check.c, scripts/mcu.sh). */
#include "r8_kernels.h"
#include "r8_variants.h"

#if R8_COMPILE_MVE(R8_MEAN_ARM_MVE)
#include <arm_mve.h>

void r8_mean_arm_mve(const r8_mean_params* p, const int8_t* input, int8_t* output) {
  const int32_t n = p->input.height * p->input.width, channels = p->input.channels;
  int32_t c, i, sums[4];
  for (c = 0; c < channels; c += 4) {
    const mve_pred16_t lanes = vctp32q((uint32_t)(channels - c));
    const int8_t* in = input + c;
    int32x4_t acc = vdupq_n_s32(0);
    for (i = 0; i < n; ++i, in += channels) acc = vaddq_s32(acc, vldrbq_z_s32(in, lanes));
    vst1q_s32(sums, acc);
    for (i = 0; i < 4 && c + i < channels; ++i) output[c + i] = r8_mean_element(p, sums[i], n);
  }
}

#endif
