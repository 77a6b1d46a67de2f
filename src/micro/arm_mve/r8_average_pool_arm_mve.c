/* AVERAGE_POOL_2D int8, the Arm MVE (Helium) variant (Cortex-M55, M85: __ARM_FEATURE_MVE): the same integers as
 * the reference variant. Per output pixel, four channels' window sums at a time, each input widened to a 32-bit
 * lane (VLDRB.S32, the lanes past the last channel off), so no sum can overflow; the window and each output from
 * its sum by r8_pool_window_of and r8_avgpool_element (r8_kernels.h), as the reference. Checked against the
 * reference variant on random pools in QEMU's Cortex-M55 (tests/micro/variants_check.c, scripts/mcu.sh). */
#include "r8_kernels.h"
#include "r8_variants.h"

#if R8_COMPILE_MVE(R8_AVGPOOL_ARM_MVE)
#include <arm_mve.h>

/* Channels c .. c + 3 (those below `channels`) of output pixel `w` into `out`. */
static void r8_mve_pool4(const r8_avgpool_params* p, const r8_pool_window* w, const int8_t* input, int32_t c,
                         int8_t* out) {
  const int32_t channels = p->input.channels;
  const mve_pred16_t lanes = vctp32q((uint32_t)(channels - c));
  int32x4_t acc = vdupq_n_s32(0);
  int32_t fy, fx, sums[4];
  for (fy = w->fy0; fy < w->fy1; ++fy) {
    const int8_t* in = input + ((w->y0 + fy) * p->input.width + w->x0 + w->fx0) * channels + c;
    for (fx = w->fx0; fx < w->fx1; ++fx, in += channels) acc = vaddq_s32(acc, vldrbq_z_s32(in, lanes));
  }
  vst1q_s32(sums, acc);
  for (fx = 0; fx < 4 && c + fx < channels; ++fx) out[c + fx] = r8_avgpool_element(p, sums[fx], w->count);
}

void r8_avgpool_arm_mve(const r8_avgpool_params* p, const int8_t* input, int8_t* output) {
  int32_t oy, ox, c;
  for (oy = 0; oy < p->output.height; ++oy) {
    for (ox = 0; ox < p->output.width; ++ox, output += p->input.channels) {
      const r8_pool_window w = r8_pool_window_of(p, oy, ox);
      for (c = 0; c < p->input.channels; c += 4) r8_mve_pool4(p, &w, input, c, output);
    }
  }
}

#endif
