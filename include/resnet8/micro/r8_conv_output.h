/* resnet8 integer kernels: the last step of every r8_conv variant, for one output element: requantization
 * of the dot product (TFLM's MultiplyByQuantizedMultiplier), the fused activation's clamp and, with a fused
 * ADD, the ADD (r8_kernels.h). One definition, so that every variant computes the same integers. */
#ifndef RESNET8_MICRO_CONV_OUTPUT_H
#define RESNET8_MICRO_CONV_OUTPUT_H

#include "r8_fixedpoint.h"
#include "r8_kernels.h"

/* The convolution's int8 output for channel oc from its dot product; with a fused ADD, the ADD's result
 * for that element, `residual` being the ADD's other input. */
static int8_t r8_conv_result(const r8_conv_params* p, int32_t oc, int32_t dot, int32_t residual) {
  int32_t out = r8_mbqm(dot + p->bias[oc], p->multiplier[oc], p->shift[oc]) + p->output_offset;
  out = r8_clamp(out, p->act_min, p->act_max);
  if (p->add) out = p->add_input == 1 ? r8_add_element(p->add, out, residual) : r8_add_element(p->add, residual, out);
  return (int8_t)out;
}

#endif /* RESNET8_MICRO_CONV_OUTPUT_H */
