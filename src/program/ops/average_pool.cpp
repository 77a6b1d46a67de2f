// AVERAGE_POOL_2D: TFLM's pooling Prepare and its r8_avgpool call.
#include "program/ops/ops.h"

namespace resnet8::ops {

void prepare_average_pool(const PrepareContext& context, size_t index, PreparedOp& o) {
  const TfliteOperator& x = context.op(index);
  if (x.inputs.size() != 1) throw context.bad(index, "expected one input");
  const TfliteTensor& in = context.activation(index, x.inputs[0], 4);
  const TfliteTensor& out = context.activation(index, x.outputs[0], 4);
  if (in.scales[0] != out.scales[0] || in.zero_points[0] != out.zero_points[0] || in.shape[3] != out.shape[3]) {
    throw context.bad(index, "input and output differ in scale, zero point or channels (the int8 kernel keeps them)");
  }
  r8_avgpool_params& a = o.avgpool;
  a.input = hwc(in);
  a.output = hwc(out);
  a.filter_h = x.filter_h;
  a.filter_w = x.filter_w;
  a.stride_h = x.stride_h;
  a.stride_w = x.stride_w;
  const auto [oh, pad_top] = out_and_pad(x.padding_same, a.input.height, a.filter_h, a.stride_h);
  const auto [ow, pad_left] = out_and_pad(x.padding_same, a.input.width, a.filter_w, a.stride_w);
  if (oh != a.output.height || ow != a.output.width || oh < 1 || ow < 1)
    throw context.bad(index, "output shape does not follow from the window");
  a.pad_top = pad_top;
  a.pad_left = pad_left;
  context.activation_range(index, x.activation, out, &a.act_min, &a.act_max);
  o.input = x.inputs[0];
  o.output = x.outputs[0];
}

void pack_average_pool(const PreparedModel& model, const ArenaStep& step, ConstArrays&, KernelCall& call) {
  call.params = model.ops[static_cast<size_t>(step.op)].avgpool;
}

}  // namespace resnet8::ops
