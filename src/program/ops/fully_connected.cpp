// FULLY_CONNECTED: TFLM's fully connected Prepare (per tensor or per channel) and its r8_fully_connected call.
#include "program/ops/ops.h"

#include <cmath>

namespace resnet8::ops {

void prepare_fully_connected(const PrepareContext& context, size_t index, PreparedOp& o) {
  const TfliteOperator& x = context.op(index);
  if (x.inputs.size() != 3) throw context.bad(index, "expected input, weights and bias");
  const TfliteTensor& in = context.activation(index, x.inputs[0], 0);
  const TfliteTensor& w = context.constant(index, x.inputs[1], TfliteType::kInt8, "weights");
  const TfliteTensor& bias = context.constant(index, x.inputs[2], TfliteType::kInt32, "bias");
  const TfliteTensor& out = context.activation(index, x.outputs[0], 2);
  if (w.shape.size() != 2 || w.shape[1] != in.elements() || w.shape[0] != out.shape[1] ||
      bias.elements() != w.shape[0]) {
    throw context.bad(index, "weights, bias and output do not fit the input");
  }
  const bool per_channel = w.scales.size() > 1;
  if (per_channel && w.type == TfliteType::kInt4) {
    throw context.bad(index, "INT4 weights per channel (TFLM has no such kernel)");
  }
  if (!per_channel) {  // GetQuantizedConvolutionMultipler's check of the bias scale
    const double product = static_cast<double>(in.scales[0]) * static_cast<double>(w.scales.at(0));
    const double bias_scale = bias.scales.empty() ? 0.0 : static_cast<double>(bias.scales[0]);
    if (std::abs(product - bias_scale) / static_cast<double>(out.scales[0]) > 0.02)
      throw context.bad(index, "the bias scale differs from input x weight scale (TFLM refuses it)");
  }
  PreparedFullyConnected& f = o.fully_connected;
  f.input_depth = static_cast<int32_t>(in.elements());
  f.output_depth = w.shape[0];
  f.input_offset = -static_cast<int32_t>(in.zero_points[0]);
  f.output_offset = static_cast<int32_t>(out.zero_points[0]);
  context.activation_range(index, x.activation, out, &f.act_min, &f.act_max);
  f.weights = context.weights(w, f.output_depth);
  f.bias = PrepareContext::ints(bias);
  context.check_accumulator(index, f.bias, f.weights, f.input_offset);
  f.per_channel = per_channel;
  context.requant(index, in, w, out, per_channel ? f.output_depth : 1, &f.multiplier, &f.shift);
  o.input = x.inputs[0];
  o.output = x.outputs[0];
}

void pack_fully_connected(const PreparedModel& model, const ArenaStep& step, ConstArrays& arrays, KernelCall& call) {
  const PreparedFullyConnected& f = model.ops[static_cast<size_t>(step.op)].fully_connected;
  r8_fully_connected_params p{};
  p.input_depth = f.input_depth;
  p.output_depth = f.output_depth;
  p.input_offset = f.input_offset;
  p.output_offset = f.output_offset;
  p.act_min = f.act_min;
  p.act_max = f.act_max;
  p.weights = arrays.add(kernel_layout(f.weights));
  p.weights_int4 = f.weights.int4;
  p.bias = arrays.add(f.bias);
  p.multiplier = arrays.add(f.multiplier);
  p.shift = arrays.add(f.shift);
  p.per_channel = f.per_channel;
  call.params = p;
}

}  // namespace resnet8::ops
