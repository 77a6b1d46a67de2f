#include <resnet8/run/int8_native.h>

#include <resnet8/engine/engine.h>
#include <resnet8/support/error.h>

#include <ATen/ATen.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/native/quantized/PackedParams.h>
#include <ATen/record_function.h>
#include <fmt/format.h>

#include <vector>

namespace resnet8 {
namespace {

using ConvParams = c10::intrusive_ptr<ConvPackedParamsBase<2>>;
using LinearParams = c10::intrusive_ptr<LinearPackedParamsBase>;

c10::IValue call_op(const char* name, torch::jit::Stack stack) {
  c10::Dispatcher::singleton().findSchemaOrThrow(name, "").callBoxed(&stack);
  return stack.at(0);
}

at::Tensor floats(const std::vector<float>& v, at::IntArrayRef shape) {
  return at::tensor(c10::ArrayRef<float>(v), at::kFloat).reshape(shape);
}

// The layer's integer weights as a quantized qint8 tensor (per channel or per tensor, symmetric), the
// stride-2 'same' padding as a zero first row and column of a 4x4 kernel, as int8_module's __setstate__.
at::Tensor quantized_weight(const LayerPlan& l) {
  at::Tensor w = at::tensor(c10::ArrayRef<int32_t>(l.weight), at::kInt).to(at::kChar).reshape(l.weight_shape);
  if (l.pads_kernel()) w = at::constant_pad_nd(w, {1, 0, 1, 0}, 0);
  const auto n = static_cast<int64_t>(l.weight_scales.size());
  if (l.weight_scales.size() == 1) return at::_make_per_tensor_quantized_tensor(w, l.weight_scales[0], 0);
  return at::_make_per_channel_quantized_tensor(w, floats(l.weight_scales, {n}).to(at::kDouble),
                                                at::zeros({n}, at::kLong), 0);
}

struct Layer {
  const LayerPlan* plan = nullptr;
  QParams out;
  ConvParams conv;          // quantized conv
  LinearParams linear;      // quantized fc
  at::Tensor weight, bias;  // a layer kept in fp32 (conv weights padded to 4x4 where the file pads them)
};

// Activation parameters as an int8 file stores them (float32 scales), so that a runner built from a plan in
// memory computes what the file of that plan computes.
QParams as_stored(const QParams& p) { return {static_cast<double>(static_cast<float>(p.scale)), p.zero_point}; }

Layer make_layer(const QuantPlan& plan, const LayerPlan& l) {
  Layer out{&l, as_stored(plan.activation(l.name).qparams), {}, {}, {}, {}};
  const at::Tensor bias = floats(l.bias, {static_cast<int64_t>(l.bias.size())});
  if (l.kept_float) {
    out.weight = floats(l.float_weight, l.weight_shape);
    if (l.pads_kernel()) out.weight = at::constant_pad_nd(out.weight, {1, 0, 1, 0}, 0);
    out.bias = bias;
  } else if (l.kind == LayerKind::kConv) {
    out.conv = call_op("quantized::conv2d_prepack",
                       {quantized_weight(l), bias, c10::List<int64_t>({l.stride, l.stride}),
                        c10::List<int64_t>({l.pad_after, l.pad_after}), c10::List<int64_t>({1, 1}), int64_t{1}})
                   .toCustomClass<ConvPackedParamsBase<2>>();
  } else {
    out.linear =
        call_op("quantized::linear_prepack", {quantized_weight(l), bias}).toCustomClass<LinearPackedParamsBase>();
  }
  return out;
}

}  // namespace

struct Int8ResNet8::Impl {
  std::string engine;
  QuantPlan plan;               // owns what the layers point to
  std::vector<Layer> layers;    // per graph node: its layer (conv, linear), else empty
  std::vector<QParams> points;  // per graph node: the parameters of its activation point (as stored)
  c10::TypedOperatorHandle<at::Tensor(at::Tensor, at::Tensor, double, int64_t)> add_relu =
      c10::Dispatcher::singleton()
          .findSchemaOrThrow("quantized::add_relu", "")
          .typed<at::Tensor(at::Tensor, at::Tensor, double, int64_t)>();
  c10::TypedOperatorHandle<at::Tensor(at::Tensor, at::Tensor, double, int64_t)> add =
      c10::Dispatcher::singleton()
          .findSchemaOrThrow("quantized::add", "")
          .typed<at::Tensor(at::Tensor, at::Tensor, double, int64_t)>();

  at::Tensor conv(const Layer& l, const at::Tensor& x) const {
    const LayerPlan& p = *l.plan;
    if (!l.conv) {  // fp32 layer: dequantize, float conv, quantize again for the int8 layers after it
      at::Tensor y = at::conv2d(x.dequantize(), l.weight, l.bias, p.stride, p.pad_after);
      if (p.relu) y = at::relu(y);
      return at::quantize_per_tensor(y, l.out.scale, l.out.zero_point, at::kQUInt8);
    }
    // The packed kernels are called directly, not through the dispatcher: named here for profilers.
    RECORD_USER_SCOPE(p.relu ? "quantized::conv2d_relu (direct)" : "quantized::conv2d (direct)");
    return p.relu ? l.conv->apply_relu(x, l.out.scale, l.out.zero_point)
                  : l.conv->apply(x, l.out.scale, l.out.zero_point);
  }

  // A quantized linear layer's logits (clamped as the file clamps them), dequantized; an fp32 one's in float.
  at::Tensor linear(size_t i, const Layer& l, const at::Tensor& x) const {
    if (!l.linear) return at::linear(x.dequantize(), l.weight, l.bias);
    RECORD_USER_SCOPE("quantized::linear (direct)");
    return clamped(i, l.linear->apply(x, l.out.scale, l.out.zero_point)).dequantize();
  }

  // The pool: LibTorch's quantized average at its input's grid, or (a point of its own) dequantize, mean,
  // quantize at the pool's parameters, as the int8 TorchScript file does.
  at::Tensor pool(size_t i, const Node& n, const at::Tensor& x) const {
    if (n.point == plan.graph.node(n.inputs[0]).point)
      return at::adaptive_avg_pool2d(x, {1, 1}).reshape({x.size(0), -1});
    return at::quantize_per_tensor(at::mean(x.dequantize(), {2, 3}), points[i].scale, points[i].zero_point,
                                   at::kQUInt8);
  }

  at::Tensor node(size_t i, const Node& n, const at::Tensor& x, const std::vector<const at::Tensor*>& in) const {
    switch (n.kind) {
      case NodeKind::kInput:
        return at::quantize_per_tensor(x.permute({0, 3, 1, 2}), points[i].scale, points[i].zero_point, at::kQUInt8);
      case NodeKind::kConv: return clamped(i, conv(layers[i], *in[0]));
      case NodeKind::kAdd:
        return clamped(i, (n.relu ? add_relu : add).call(*in[0], *in[1], points[i].scale, points[i].zero_point));
      case NodeKind::kPool: return clamped(i, pool(i, n, *in[0]));
      case NodeKind::kLinear: return linear(i, layers[i], *in[0]);
      case NodeKind::kSoftmax: return at::softmax(*in[0], 1);
    }
    throw Error(fmt::format("node '{}': unknown kind", n.name));
  }

  // A quantized value clamped to its point's N-bit range, as the int8 file clamps it (6 bits and fewer).
  at::Tensor clamped(size_t i, const at::Tensor& q) const {
    if (!plan.clamps_activations()) return q;
    const double s = points[i].scale;
    const auto z = points[i].zero_point;
    return at::clamp(q, static_cast<double>(0 - z) * s,
                     static_cast<double>(unsigned_qmax(plan.activation_bits) - z) * s);
  }
};

Int8ResNet8::Int8ResNet8(const QuantPlan& plan) {
  check_int8_plan(plan);
  auto impl = std::make_shared<Impl>();
  impl->engine = current_engine();
  impl->plan = plan;
  const QuantPlan& p = impl->plan;
  for (const Node& n : p.graph.nodes) {
    impl->layers.push_back(p.has_layer(n.name) ? make_layer(p, p.layer(n.name)) : Layer{});
    impl->points.push_back(n.point.empty() ? QParams{} : as_stored(p.activation(n.point).qparams));
  }
  impl_ = std::move(impl);
}

const std::string& Int8ResNet8::engine() const { return impl_->engine; }

at::Tensor Int8ResNet8::forward(const at::Tensor& x) const {
  const Impl& m = *impl_;
  size_t i = 0;
  return run_graph<at::Tensor>(
      m.plan.graph, [&](const Node& n, const std::vector<const at::Tensor*>& in) { return m.node(i++, n, x, in); });
}

}  // namespace resnet8
