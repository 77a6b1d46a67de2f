// MEAN over height and width: TFLM's reduce Prepare (the multiplier in/out, then QuantizedMeanOrSum's
// readjustment by the element count) and its r8_mean call.
#include "program/ops/ops.h"

#include <fmt/format.h>

#include <algorithm>

namespace resnet8::ops {

void prepare_mean(const PrepareContext& context, size_t index, PreparedOp& o) {
  const TfliteOperator& x = context.op(index);
  if (x.inputs.size() != 2) throw context.bad(index, "expected input and axis");
  const TfliteTensor& in = context.activation(index, x.inputs[0], 4);
  const TfliteTensor& axis = context.constant(index, x.inputs[1], TfliteType::kInt32, "axis");
  const TfliteTensor& out = context.activation(index, x.outputs[0], 0);
  std::vector<int32_t> axes = PrepareContext::ints(axis);
  std::sort(axes.begin(), axes.end());
  if (axes != std::vector<int32_t>{1, 2} || out.elements() != in.shape[3])
    throw context.bad(index, "only a mean over height and width is implemented");
  r8_mean_params& m = o.mean;
  m.input = hwc(in);
  m.input_zero_point = static_cast<int32_t>(in.zero_points[0]);
  m.output_zero_point = static_cast<int32_t>(out.zero_points[0]);
  int shift = 0;
  quantize_multiplier(static_cast<double>(in.scales[0]) / static_cast<double>(out.scales[0]), &m.multiplier, &shift);
  const int64_t count = int64_t{m.input.height} * m.input.width;
  int extra = 63 - static_cast<int>(__builtin_clzll(static_cast<uint64_t>(count)));
  extra = std::min(extra, 32);
  extra = std::min(extra, 31 + shift);
  m.multiplier = static_cast<int32_t>((static_cast<int64_t>(m.multiplier) << extra) / count);
  m.shift = shift - extra;
  context.check_shift(index, m.shift,
                      fmt::format("the mean's scale ratio {:g}",
                                  static_cast<double>(in.scales[0]) / static_cast<double>(out.scales[0])));
  o.input = x.inputs[0];
  o.output = x.outputs[0];
}

void pack_mean(const PreparedModel& model, const ArenaStep& step, ConstArrays&, KernelCall& call) {
  call.params = model.ops[static_cast<size_t>(step.op)].mean;
}

}  // namespace resnet8::ops
