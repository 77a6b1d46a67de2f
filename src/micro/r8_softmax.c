/* SOFTMAX int8 -> int8: the variant this target compiles (r8_variants.h). */
#include "r8_kernels.h"
#include "r8_variants.h"

void r8_softmax(const r8_softmax_params* p, const int8_t* input, int8_t* output) {
  r8_softmax_reference(p, input, output);
}
