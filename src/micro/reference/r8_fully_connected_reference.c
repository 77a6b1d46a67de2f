/* FULLY_CONNECTED int8: tflite::reference_integer_ops::FullyConnected (per-tensor weights) and
 * FullyConnectedPerChannel; weights zero point 0, batch 1, rows in the kernels' layout (r8_weight_at).
 * The reference variant: portable C99, the oracle. */
#include "r8_fixedpoint.h"
#include "r8_kernels.h"
#include "r8_variants.h"

#if R8_COMPILE(R8_FULLY_CONNECTED_REFERENCE)

void r8_fully_connected_reference(const r8_fully_connected_params* p, const int8_t* input, int8_t* output) {
  const int32_t stride = r8_filter_stride(p->input_depth);
  int32_t o, d;
  for (o = 0; o < p->output_depth; ++o) {
    const int32_t k = p->per_channel ? o : 0;
    int32_t acc = 0;
    for (d = 0; d < p->input_depth; ++d) {
      acc += r8_weight_at(p->weights, p->weights_int4, p->output_depth, stride, o, d) *
             ((int32_t)input[d] + p->input_offset);
    }
    acc += p->bias[o];
    acc = r8_mbqm(acc, p->multiplier[k], p->shift[k]) + p->output_offset;
    output[o] = (int8_t)r8_clamp(acc, p->act_min, p->act_max);
  }
}

#endif
