/* CONV_2D int8, per-channel weights: tflite::reference_integer_ops::ConvPerChannel (dilation 1, one
 * group), to the bit, with an optional fused ADD after it (r8_kernels.h), in the variant this target
 * compiles (r8_variants.h). */
#include "r8_kernels.h"
#include "r8_variants.h"

void r8_conv(const r8_conv_params* p, const int8_t* input, int8_t* output, int8_t* scratch) {
#if R8_CONV_ARM_MVE
  r8_conv_arm_mve(p, input, output, scratch);
#elif R8_CONV_ARM_DSP
  r8_conv_arm_dsp(p, input, output, scratch);
#else
  r8_conv_reference(p, input, output, scratch);
#endif
}

int32_t r8_conv_scratch_bytes(const r8_conv_params* p) {
  const int32_t reference = r8_conv_scratch_bytes_reference(p), dsp = r8_conv_scratch_bytes_arm_dsp(p);
  const int32_t mve = r8_conv_scratch_bytes_arm_mve(p), most = reference > dsp ? reference : dsp;
  return most > mve ? most : mve;
}
