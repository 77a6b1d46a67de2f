// SOFTMAX int8 -> int8: TFLM's CalculateSoftmaxParams (PreprocessSoftmaxScaling, CalculateInputRadius) and
// its r8_softmax call.
#include "program/ops/ops.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace resnet8::ops {

void prepare_softmax(const PrepareContext& context, size_t index, PreparedOp& o) {
  const TfliteOperator& x = context.op(index);
  const TfliteTensor& in = context.activation(index, x.inputs.at(0), 0);
  const TfliteTensor& out = context.activation(index, x.outputs[0], 0);
  if (in.shape != out.shape || out.zero_points[0] != -128 || out.scales[0] != 1.0f / 256) {
    throw context.bad(index, "the int8 softmax needs an output of the input's shape at scale 1/256, zero point -128");
  }
  const int integer_bits = 5;
  const double real = std::min(
      static_cast<double>(x.beta) * static_cast<double>(in.scales[0]) * static_cast<double>(1 << (31 - integer_bits)),
      static_cast<double>((int64_t{1} << 31) - 1));
  if (!(real > 1)) throw context.bad(index, "its input scale is too small for TFLM's softmax (multiplier <= 1)");
  int shift = 0;
  quantize_multiplier(real, &o.softmax.input_multiplier, &shift);
  context.check_shift(index, shift, fmt::format("its input scaling {:g}", real));
  o.softmax.input_left_shift = shift;
  o.softmax.diff_min = -static_cast<int32_t>(
      std::floor(1.0 * ((1 << integer_bits) - 1) * static_cast<double>(int64_t{1} << (31 - integer_bits)) /
                 static_cast<double>(int64_t{1} << shift)));
  o.softmax.depth = in.shape.back();
  o.softmax.rows = static_cast<int32_t>(in.elements() / o.softmax.depth);
  o.input = x.inputs[0];
  o.output = x.outputs[0];
}

void pack_softmax(const PreparedModel& model, const ArenaStep& step, ConstArrays&, KernelCall& call) {
  call.params = model.ops[static_cast<size_t>(step.op)].softmax;
}

}  // namespace resnet8::ops
