// RESHAPE: checked, then planned as a view of its input's bytes (program/arena_plan.h); no kernel call.
#include "program/ops/ops.h"

namespace resnet8::ops {

void prepare_reshape(const PrepareContext& context, size_t index, PreparedOp& o) {
  const TfliteOperator& x = context.op(index);
  const TfliteTensor& in = context.activation(index, x.inputs.at(0), 0);
  const TfliteTensor& out = context.activation(index, x.outputs[0], 0);
  if (in.elements() != out.elements()) throw context.bad(index, "changes the number of elements");
  o.input = x.inputs[0];
  o.output = x.outputs[0];
}

}  // namespace resnet8::ops
