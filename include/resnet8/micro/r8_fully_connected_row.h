/* resnet8 integer kernels: one FULLY_CONNECTED output, for every r8_fully_connected variant: a row's dot product
 * with the inputs in plain C (any layout: r8_weight_at), and the output from a dot product (TFLM's
 * MultiplyByQuantizedMultiplier, offset, clamp). One definition, so that every variant computes the same integers. */
#ifndef RESNET8_MICRO_FULLY_CONNECTED_ROW_H
#define RESNET8_MICRO_FULLY_CONNECTED_ROW_H

#include "r8_fixedpoint.h"
#include "r8_kernels.h"

/* Row o of the weights . (input + input offset). */
static int32_t r8_fc_dot(const r8_fully_connected_params* p, const int8_t* input, int32_t o) {
  const int32_t stride = r8_filter_stride(p->input_depth);
  int32_t d, acc = 0;
  for (d = 0; d < p->input_depth; ++d) {
    acc += r8_weight_at(p->weights, p->weights_int4, p->output_depth, stride, o, d) *
           ((int32_t)input[d] + p->input_offset);
  }
  return acc;
}

/* Output o from its dot product: bias, requantization (per channel or per tensor), offset, clamp. */
static int8_t r8_fc_result(const r8_fully_connected_params* p, int32_t o, int32_t dot) {
  const int32_t k = p->per_channel ? o : 0;
  return (int8_t)r8_clamp(r8_mbqm(dot + p->bias[o], p->multiplier[k], p->shift[k]) + p->output_offset, p->act_min,
                          p->act_max);
}

#endif /* RESNET8_MICRO_FULLY_CONNECTED_ROW_H */
