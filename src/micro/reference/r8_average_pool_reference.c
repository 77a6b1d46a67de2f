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
      const int32_t y0 = oy * p->stride_h - p->pad_top, x0 = ox * p->stride_w - p->pad_left;
      const int32_t fy0 = y0 < 0 ? -y0 : 0, fx0 = x0 < 0 ? -x0 : 0;
      const int32_t fy1 = p->filter_h < p->input.height - y0 ? p->filter_h : p->input.height - y0;
      const int32_t fx1 = p->filter_w < p->input.width - x0 ? p->filter_w : p->input.width - x0;
      for (c = 0; c < c_n; ++c) {
        int32_t acc = 0, count = 0;
        for (fy = fy0; fy < fy1; ++fy) {
          for (fx = fx0; fx < fx1; ++fx) {
            acc += input[((y0 + fy) * p->input.width + (x0 + fx)) * c_n + c];
            ++count;
          }
        }
        if (count == 0) count = 1; /* TFLM fails the op; a window always overlaps the input here */
        acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
        output[(oy * p->output.width + ox) * c_n + c] = (int8_t)r8_clamp(acc, p->act_min, p->act_max);
      }
    }
  }
}

#endif
