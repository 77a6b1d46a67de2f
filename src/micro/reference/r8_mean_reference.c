/* MEAN int8 over height and width: tflite::reference_ops::QuantizedMeanOrSum, as TFLM's reduce kernel
 * calls it, with the multiplier readjusted by the element count.
 * The reference variant: portable C99, the oracle. */
#include "r8_kernels.h"
#include "r8_variants.h"

#if R8_COMPILE(R8_MEAN_REFERENCE)

void r8_mean_reference(const r8_mean_params* p, const int8_t* input, int8_t* output) {
  const int32_t n = p->input.height * p->input.width;
  int32_t c, i;
  for (c = 0; c < p->input.channels; ++c) {
    int32_t sum = 0;
    for (i = 0; i < n; ++i) sum += input[i * p->input.channels + c];
    output[c] = r8_mean_element(p, sum, n);
  }
}

#endif
