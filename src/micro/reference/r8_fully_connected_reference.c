/* FULLY_CONNECTED int8: tflite::reference_integer_ops::FullyConnected (per-tensor weights) and
 * FullyConnectedPerChannel; weights zero point 0, batch 1, rows in the kernels' layout (r8_weight_at).
 * The reference variant: portable C99, the oracle (its arithmetic in r8_fully_connected_row.h). */
#include "r8_kernels.h"
#include "r8_variants.h"

#if R8_COMPILE(R8_FULLY_CONNECTED_REFERENCE)
#include "r8_fully_connected_row.h"

void r8_fully_connected_reference(const r8_fully_connected_params* p, const int8_t* input, int8_t* output) {
  int32_t o;
  for (o = 0; o < p->output_depth; ++o) output[o] = r8_fc_result(p, o, r8_fc_dot(p, input, o));
}

#endif
