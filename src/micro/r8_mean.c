/* MEAN int8 over height and width: the variant this target compiles (r8_variants.h). */
#include "r8_kernels.h"
#include "r8_variants.h"

void r8_mean(const r8_mean_params* p, const int8_t* input, int8_t* output) {
#if R8_MEAN_ARM_MVE
  r8_mean_arm_mve(p, input, output);
#else
  r8_mean_reference(p, input, output);
#endif
}
