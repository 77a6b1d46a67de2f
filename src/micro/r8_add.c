/* ADD int8: the variant this target compiles (r8_variants.h). */
#include "r8_kernels.h"
#include "r8_variants.h"

void r8_add(const r8_add_params* p, const int8_t* input1, const int8_t* input2, int8_t* output) {
  r8_add_reference(p, input1, input2, output);
}
