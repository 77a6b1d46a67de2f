/* resnet8 integer kernels: CONV_2D one output at a time from the int8 patch (r8_conv_window.h) and the weights as
 * they lie (r8_weight_at), with r8_conv_output.h's last step. The slow path a faster variant hands a layer its
 * inner loops cannot take (arm_dsp: int4 rows over 4,096 inputs; arm_mve: r8_conv_arm_mve.c says which). */
#ifndef RESNET8_MICRO_CONV_PLAIN_H
#define RESNET8_MICRO_CONV_PLAIN_H

#include "r8_conv_output.h"
#include "r8_conv_window.h"
#include "r8_kernels.h"

/* `patch`: scratch of the filter stride's bytes. */
static inline void r8_conv_plain(const r8_conv_params* p, const int8_t* input, int8_t* output, int8_t* patch) {
  const int32_t channels = p->output.channels, pixels = p->output.height * p->output.width;
  const int32_t size = p->kernel_h * p->kernel_w * p->input.channels, stride = r8_filter_stride(size);
  int32_t pixel, oc, i;
  for (pixel = 0; pixel < pixels; ++pixel, output += channels) {
    r8_patch_bytes(p, input, pixel, patch);
    for (oc = 0; oc < channels; ++oc) {
      int32_t dot = 0;
      for (i = 0; i < size; ++i) dot += r8_weight_at(p->weights, p->weights_int4, channels, stride, oc, i) * patch[i];
      output[oc] = r8_conv_result(p, oc, dot, p->add ? output[oc] : 0);
    }
  }
}

#endif /* RESNET8_MICRO_CONV_PLAIN_H */
