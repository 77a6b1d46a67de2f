#include <resnet8/quant/layer_statistics.h>

#include <resnet8/quant/simulate.h>
#include <resnet8/support/error.h>

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <fmt/format.h>

namespace resnet8 {
namespace {

// The sums are kept in float64; each batch's products are float32 matrix products.
at::Tensor outer_mean(const at::Tensor& a, const at::Tensor& b) { return a.t().mm(b).to(at::kDouble); }

// The value at `point` while `forward(transform)` runs the network through `transform` (a clone: the
// network updates some activations in place). The input point is NHWC; it is returned NCHW.
template <typename Forward>
at::Tensor capture(const Node& node, const FoldedResNet8::Transform& transform, Forward&& forward) {
  const std::string& point = node.name;
  at::Tensor seen;
  forward([&](const std::string& p, const at::Tensor& t) {
    at::Tensor y = transform ? transform(p, t) : t;
    if (p == point) seen = y.clone();
    return y;
  });
  if (!seen.defined()) throw Error(fmt::format("the network has no activation point '{}'", point));
  return node.kind == NodeKind::kInput ? seen.permute({0, 3, 1, 2}) : seen;
}

}  // namespace

at::Tensor LayerStatistics::float_gram() const { return gram - cross - cross.t() + diff_gram; }

double reconstruction_error(const at::Tensor& w_float, const at::Tensor& w_quantized, const LayerStatistics& stats) {
  const at::Tensor w = w_float.to(at::kDouble).reshape({w_float.size(0), -1});
  const at::Tensor d = w_quantized.to(at::kDouble).reshape({w.size(0), -1}) - w;
  const at::Tensor e =
      (d.mm(stats.gram) * d).sum() + 2 * (d * w.mm(stats.cross.t())).sum() + (w.mm(stats.diff_gram) * w).sum();
  return e.item<double>();
}

at::Tensor unfold_input(const LayerPlan& layer, const at::Tensor& x) {
  if (layer.kind == LayerKind::kLinear) return x.dim() == 4 ? x.mean({2, 3}) : x;
  const int64_t kh = layer.weight_shape[2], kw = layer.weight_shape[3];
  const at::Tensor padded =
      at::constant_pad_nd(x, {layer.pad_before, layer.pad_after, layer.pad_before, layer.pad_after}, 0);
  const at::Tensor cols = at::im2col(padded.contiguous(), {kh, kw}, {1, 1}, {0, 0}, {layer.stride, layer.stride});
  return cols.transpose(1, 2).reshape({-1, cols.size(1)});  // [N * positions, in * kh * kw]
}

void accumulate(LayerStatistics& stats, const at::Tensor& rows_quantized, const at::Tensor& rows_float) {
  const at::Tensor xq = rows_quantized.to(at::kFloat), d = xq - rows_float.to(at::kFloat);
  const int64_t k = xq.size(1), n = xq.size(0);
  if (stats.rows == 0) {
    const auto o = at::TensorOptions().dtype(at::kDouble);
    stats.mean_quantized = at::zeros({k}, o), stats.mean_float = at::zeros({k}, o);
    stats.gram = at::zeros({k, k}, o), stats.cross = at::zeros({k, k}, o), stats.diff_gram = at::zeros({k, k}, o);
  }
  // Running means: new = old + (batch sum - n * old) / total.
  const double total = static_cast<double>(stats.rows + n);
  auto update = [&](at::Tensor& mean, const at::Tensor& batch_sum) { mean += (batch_sum - n * mean) / total; };
  update(stats.mean_quantized, xq.sum(0).to(at::kDouble));
  update(stats.mean_float, rows_float.to(at::kDouble).sum(0));
  update(stats.gram, outer_mean(xq, xq));
  update(stats.cross, outer_mean(xq, d));
  update(stats.diff_gram, outer_mean(d, d));
  stats.rows += n;
}

LayerStatistics layer_statistics(const FoldedResNet8& model, const QuantPlan& plan, const std::string& layer,
                                 const cifar10::Dataset& calibration, int64_t batch_size) {
  if (calibration.size() == 0) throw Error("the calibration set is empty");
  const LayerPlan& l = plan.layer(layer);
  // The value of the node the layer reads, as the simulation quantizes it (a pool's output at its own
  // point's grid, or its input's).
  const Node& point = plan.graph.node(plan.graph.node(l.name).inputs.at(0));
  const SimulatedModel quantized = simulate(model, plan);
  LayerStatistics stats;
  c10::InferenceMode inference;
  for (int64_t begin = 0; begin < calibration.size(); begin += batch_size) {
    const at::Tensor x = cifar10::to_model_input(calibration.images.slice(0, begin, begin + batch_size));
    const at::Tensor xq =
        capture(point, quantized.transform, [&](auto&& t) { quantized.model.forward(x, nullptr, t); });
    const at::Tensor xf = capture(point, nullptr, [&](auto&& t) { model.forward(x, nullptr, t); });
    accumulate(stats, unfold_input(l, xq), unfold_input(l, xf));
  }
  return stats;
}

}  // namespace resnet8
