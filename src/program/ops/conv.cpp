// CONV_2D: TFLM's conv Prepare (ConvParams, per-channel multipliers) and its r8_conv call.
#include "program/ops/ops.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace resnet8::ops {

void prepare_conv(const PrepareContext& context, size_t index, PreparedOp& o) {
  const TfliteOperator& x = context.op(index);
  if (x.inputs.size() != 3) throw context.bad(index, "expected input, filter and bias");
  const TfliteTensor& in = context.activation(index, x.inputs[0], 4);
  const TfliteTensor& filter = context.constant(index, x.inputs[1], TfliteType::kInt8, "filter");
  const TfliteTensor& bias = context.constant(index, x.inputs[2], TfliteType::kInt32, "bias");
  const TfliteTensor& out = context.activation(index, x.outputs[0], 4);
  if (filter.shape.size() != 4 || filter.shape[3] != in.shape[3] || filter.shape[0] != out.shape[3] ||
      bias.elements() != out.shape[3]) {
    throw context.bad(index, fmt::format("filter [{}] and bias [{}] do not fit input [{}] and output [{}]",
                                         fmt::join(filter.shape, ", "), fmt::join(bias.shape, ", "),
                                         fmt::join(in.shape, ", "), fmt::join(out.shape, ", ")));
  }
  PreparedConv& c = o.conv;
  c.input = hwc(in);
  c.output = hwc(out);
  c.kernel_h = filter.shape[1];
  c.kernel_w = filter.shape[2];
  c.stride_h = x.stride_h;
  c.stride_w = x.stride_w;
  const auto [oh, pad_top] = out_and_pad(x.padding_same, c.input.height, c.kernel_h, c.stride_h);
  const auto [ow, pad_left] = out_and_pad(x.padding_same, c.input.width, c.kernel_w, c.stride_w);
  if (oh != c.output.height || ow != c.output.width) {
    throw context.bad(
        index, fmt::format("output is {}x{}, padding and strides give {}x{}", c.output.height, c.output.width, oh, ow));
  }
  c.pad_top = pad_top;
  c.pad_left = pad_left;
  c.input_offset = -static_cast<int32_t>(in.zero_points[0]);
  c.output_offset = static_cast<int32_t>(out.zero_points[0]);
  context.activation_range(index, x.activation, out, &c.act_min, &c.act_max);
  c.filter = context.weights(filter, c.output.channels);
  c.bias = PrepareContext::ints(bias);
  context.check_accumulator(index, c.bias, c.filter, c.input_offset);
  context.requant(index, in, filter, out, c.output.channels, &c.multiplier, &c.shift);
  o.input = x.inputs[0];
  o.output = x.outputs[0];
}

void pack_conv(const PreparedModel& model, const ArenaStep& step, ConstArrays& arrays, KernelCall& call) {
  const PreparedConv& c = model.ops[static_cast<size_t>(step.op)].conv;
  r8_conv_params p{};
  p.input = c.input;
  p.output = c.output;
  p.kernel_h = c.kernel_h;
  p.kernel_w = c.kernel_w;
  p.stride_h = c.stride_h;
  p.stride_w = c.stride_w;
  p.pad_top = c.pad_top;
  p.pad_left = c.pad_left;
  p.input_offset = c.input_offset;
  p.output_offset = c.output_offset;
  p.act_min = c.act_min;
  p.act_max = c.act_max;
  p.weights = arrays.add(kernel_layout(c.filter));
  p.weights_int4 = c.filter.int4;
  p.bias = arrays.add(folded_bias(c.bias, c.filter, c.input_offset));
  p.multiplier = arrays.add(c.multiplier);
  p.shift = arrays.add(c.shift);
  p.fast_requant = fast_requant(c.bias, c.filter, c.input_offset, c.shift) ? 1 : 0;
  if (step.fused_add >= 0) {
    p.add = arrays.add(model.ops[static_cast<size_t>(step.fused_add)].add);
    p.add_input = step.add_input;
  }
  call.params = p;
}

}  // namespace resnet8::ops
