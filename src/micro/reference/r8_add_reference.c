/* ADD int8: tflite::reference_integer_ops::Add / AddFunc (same shapes, no broadcast); the element is
 * r8_add_element (r8_kernels.h), which a convolution with a fused ADD calls too.
 * The reference variant: portable C99, the oracle. */
#include "r8_kernels.h"
#include "r8_variants.h"

#if R8_COMPILE(R8_ADD_REFERENCE)

R8_HOT void r8_add_reference(const r8_add_params* p, const int8_t* input1, const int8_t* input2, int8_t* output) {
  int32_t i;
  for (i = 0; i < p->size; ++i) output[i] = (int8_t)r8_add_element(p, input1[i], input2[i]);
}

#endif
