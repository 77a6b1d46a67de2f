// ADD: TFLM's add Prepare (the general rescaling path, left shift 20) and its r8_add call.
#include "program/ops/ops.h"

#include <fmt/format.h>

#include <algorithm>

namespace resnet8::ops {

void prepare_add(const PrepareContext& context, size_t index, PreparedOp& o) {
  const TfliteOperator& x = context.op(index);
  if (x.inputs.size() != 2) throw context.bad(index, "expected two inputs");
  const TfliteTensor& a = context.activation(index, x.inputs[0], 0);
  const TfliteTensor& b = context.activation(index, x.inputs[1], 0);
  const TfliteTensor& out = context.activation(index, x.outputs[0], 0);
  if (a.shape != b.shape || a.shape != out.shape)
    throw context.bad(index, "inputs and output differ in shape (broadcast is not implemented)");
  r8_add_params& d = o.add;
  d.size = static_cast<int32_t>(out.elements());
  d.input1_offset = -static_cast<int32_t>(a.zero_points[0]);
  d.input2_offset = -static_cast<int32_t>(b.zero_points[0]);
  d.output_offset = static_cast<int32_t>(out.zero_points[0]);
  d.left_shift = 20;
  const double twice_max = 2 * static_cast<double>(std::max(a.scales[0], b.scales[0]));
  const double m1 = static_cast<double>(a.scales[0]) / twice_max, m2 = static_cast<double>(b.scales[0]) / twice_max;
  const double mo = twice_max / ((1 << d.left_shift) * static_cast<double>(out.scales[0]));
  auto smaller_than_one = [&](double m, int32_t* q, int32_t* shift) {  // QuantizeMultiplierSmallerThanOneExp
    if (!(m > 0 && m < 1)) {
      throw context.bad(index, fmt::format("a rescaling multiplier of {} (TFLM requires one in (0, 1))", m));
    }
    int s = 0;
    quantize_multiplier(m, q, &s);
    if (s > 0) throw context.bad(index, "a rescaling multiplier rounds to 1");
    *shift = s;
  };
  smaller_than_one(m1, &d.input1_multiplier, &d.input1_shift);
  smaller_than_one(m2, &d.input2_multiplier, &d.input2_shift);
  smaller_than_one(mo, &d.output_multiplier, &d.output_shift);
  context.activation_range(index, x.activation, out, &d.act_min, &d.act_max);
  o.input = x.inputs[0];
  o.input2 = x.inputs[1];
  o.output = x.outputs[0];
}

void pack_add(const PreparedModel& model, const ArenaStep& step, ConstArrays&, KernelCall& call) {
  call.params = model.ops[static_cast<size_t>(step.op)].add;
}

}  // namespace resnet8::ops
