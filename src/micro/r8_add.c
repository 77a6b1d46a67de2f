/* ADD int8: tflite::reference_integer_ops::Add / AddFunc (same shapes, no broadcast). */
#include "r8_fixedpoint.h"
#include "r8_kernels.h"

R8_HOT void r8_add(const r8_add_params* p, const int8_t* input1, const int8_t* input2, int8_t* output) {
  int32_t i;
  for (i = 0; i < p->size; ++i) {
    const int32_t shifted1 = r8_shl((int32_t)input1[i] + p->input1_offset, p->left_shift);
    const int32_t shifted2 = r8_shl((int32_t)input2[i] + p->input2_offset, p->left_shift);
    const int32_t scaled1 = r8_mbqm_lt1(shifted1, p->input1_multiplier, p->input1_shift);
    const int32_t scaled2 = r8_mbqm_lt1(shifted2, p->input2_multiplier, p->input2_shift);
    int32_t out = r8_mbqm_lt1(scaled1 + scaled2, p->output_multiplier, p->output_shift) + p->output_offset;
    out = out < p->act_min ? p->act_min : out > p->act_max ? p->act_max : out;
    output[i] = (int8_t)out;
  }
}
