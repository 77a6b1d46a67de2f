/* FULLY_CONNECTED int8: the variant this target compiles (r8_variants.h). */
#include "r8_kernels.h"
#include "r8_variants.h"

void r8_fully_connected(const r8_fully_connected_params* p, const int8_t* input, int8_t* output) {
#if R8_FULLY_CONNECTED_ARM_MVE
  r8_fully_connected_arm_mve(p, input, output);
#else
  r8_fully_connected_reference(p, input, output);
#endif
}
