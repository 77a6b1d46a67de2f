/* AVERAGE_POOL_2D int8: the variant this target compiles (r8_variants.h). */
#include "r8_kernels.h"
#include "r8_variants.h"

void r8_avgpool(const r8_avgpool_params* p, const int8_t* input, int8_t* output) {
#if R8_AVGPOOL_ARM_MVE
  r8_avgpool_arm_mve(p, input, output);
#else
  r8_avgpool_reference(p, input, output);
#endif
}
