/* AVERAGE_POOL_2D int8: tflite::reference_integer_ops::AveragePool.
 * The reference variant: portable C99, the oracle. */
#include "r8_kernels.h"
#include "r8_variants.h"

#if R8_COMPILE(R8_AVGPOOL_REFERENCE)

void r8_avgpool_reference(const r8_avgpool_params* p, const int8_t* input, int8_t* output) {
  const int32_t c_n = p->input.channels;
  int32_t oy, ox, c, fy, fx;
  for (oy = 0; oy < p->output.height; ++oy) {
    for (ox = 0; ox < p->output.width; ++ox) {
      const r8_pool_window w = r8_pool_window_of(p, oy, ox);
      const int32_t corner = (w.y0 * p->input.width + w.x0) * c_n; /* may be negative; no access is */
      for (c = 0; c < c_n; ++c) {
        int32_t acc = 0;
        for (fy = w.fy0; fy < w.fy1; ++fy) {
          for (fx = w.fx0; fx < w.fx1; ++fx) acc += input[corner + (fy * p->input.width + fx) * c_n + c];
        }
        output[(oy * p->output.width + ox) * c_n + c] = r8_avgpool_element(p, acc, w.count);
      }
    }
  }
}

#endif
