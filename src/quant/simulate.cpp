#include <resnet8/quant/simulate.h>

#include <resnet8/support/error.h>

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <map>

namespace resnet8 {
namespace {

at::Tensor from_values(const std::vector<float>& v, const std::vector<int64_t>& shape) {
  return at::tensor(c10::ArrayRef<float>(v), at::kFloat).view(shape);
}

// The folded form of a plan conv's weights: the 'same' padding (0 before, 1 after) is a zero first
// row and column of a 4x4 kernel, as FoldedConv holds it.
at::Tensor folded_weight(const FoldedConv& conv, const LayerPlan& layer) {
  const at::Tensor w = plan_weight(layer);
  return conv.padded_kernel ? at::constant_pad_nd(w, {1, 0, 1, 0}, 0) : w;
}

}  // namespace

at::Tensor fake_quant_affine(const at::Tensor& x, double scale, int64_t zero_point, int64_t qmin, int64_t qmax) {
  return (at::clamp(at::round(x / scale) + zero_point, qmin, qmax) - zero_point) * scale;
}

at::Tensor plan_weight(const LayerPlan& layer) {
  if (layer.kept_float) return from_values(layer.float_weight, layer.weight_shape);
  const at::Tensor q = at::tensor(c10::ArrayRef<int32_t>(layer.weight), at::kInt).view(layer.weight_shape);
  std::vector<int64_t> shape(layer.weight_shape.size(), 1);
  shape[0] = static_cast<int64_t>(layer.weight_scales.size());
  return q.to(at::kFloat) * at::tensor(c10::ArrayRef<float>(layer.weight_scales), at::kFloat).view(shape);
}

SimulatedModel simulate(const FoldedResNet8& model, const QuantPlan& plan) {
  SimulatedModel out{model, nullptr};
  // The plan's weights and biases (a quantized layer's bias is rounded to int32 steps, as int8 kernels hold it).
  for (FoldedConv& c : out.model.convs) {
    const LayerPlan& l = plan.layer(c.name);
    c.weight = folded_weight(c, l).contiguous(at::MemoryFormat::ChannelsLast);
    c.bias = from_values(l.bias, {l.weight_shape[0]});
  }
  const LayerPlan& fc = plan.layer(plan.graph.of_kind(NodeKind::kLinear).at(0)->name);
  out.model.fc_weight = plan_weight(fc);
  out.model.fc_bias = from_values(fc.bias, {fc.weight_shape[0]});

  // Each node's output at the parameters of its activation point (the pool's are its input's, as int8
  // pooling keeps them), unless that point is kept float.
  std::map<std::string, QParams> points;
  for (const Node& n : plan.graph.nodes) {
    if (n.point.empty()) continue;
    const ActivationPlan& a = plan.activation(n.point);
    if (!a.kept_float) points[n.name] = a.qparams;
  }
  const int64_t qmax = unsigned_qmax(plan.activation_bits);
  out.transform = [points, qmax](const std::string& point, const at::Tensor& t) {
    const auto it = points.find(point);
    return it == points.end() ? t : fake_quant_affine(t, it->second.scale, it->second.zero_point, 0, qmax);
  };
  return out;
}

}  // namespace resnet8
