#include <resnet8/quant/refine.h>

#include <resnet8/quant/bias_correction.h>
#include <resnet8/quant/layer_statistics.h>
#include <resnet8/quant/planner.h>
#include <resnet8/support/error.h>

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <chrono>

namespace resnet8 {
namespace {

at::Tensor floats(const std::vector<float>& v) { return at::tensor(c10::ArrayRef<float>(v), at::kFloat); }

// The layer's integer weights as [out, K] and its scales as a column, in float.
at::Tensor plan_integers(const LayerPlan& l) {
  return at::tensor(c10::ArrayRef<int32_t>(l.weight), at::kInt).to(at::kFloat).reshape({l.weight_shape[0], -1});
}

void set_integers(LayerPlan& l, const at::Tensor& q) {
  const at::Tensor c = q.to(at::kInt).contiguous();
  l.weight.assign(c.data_ptr<int32_t>(), c.data_ptr<int32_t>() + c.numel());
}

LayerRefinement refine_layer(const FoldedResNet8& model, const cifar10::Dataset& calibration, QuantPlan& plan,
                             LayerPlan& l, const RefineOptions& o) {
  const FloatLayer f = float_layer(model, l.name);
  const at::Tensor w = f.weight.reshape({f.weight.size(0), -1}).to(at::kFloat);
  const at::Tensor scales = floats(l.weight_scales), column = scales.reshape({-1, 1});
  const LayerStatistics stats = layer_statistics(model, plan, l.name, calibration, o.batch_size);
  LayerRefinement r;
  r.layer = l.name;
  r.error_nearest = reconstruction_error(w, plan_integers(l) * column, stats);
  if (o.rounding == Rounding::kAdaRound) {
    const RoundingResult rounded = adaround(w, scales, l.weight_bits, stats, o.adaround);
    set_integers(l, rounded.integers);
    r.rounding_changed = rounded.changed;
    r.rounding_soft = rounded.soft;
  }
  const at::Tensor wq = plan_integers(l) * column;
  r.error = reconstruction_error(w, wq, stats);
  if (o.bias_correction) {
    const at::Tensor shift = mean_output_shift(w, wq, stats);
    const at::Tensor bias = (f.bias.to(at::kDouble) - shift).to(at::kFloat).contiguous();
    l.bias.assign(bias.data_ptr<float>(), bias.data_ptr<float>() + bias.numel());
    round_bias(l, plan.activation(l.input));
    r.max_bias_shift = shift.abs().max().item<double>();
    r.error -= shift.pow(2).sum().item<double>();  // E|e - E e|^2 = E|e|^2 - |E e|^2
  }
  return r;
}

}  // namespace

RefineReport refine(const FoldedResNet8& model, const cifar10::Dataset& calibration, QuantPlan& plan,
                    const RefineOptions& options) {
  if (options.batch_size < 1) throw OptionError("batch_size", "the refinement batch size must be >= 1");
  const auto start = std::chrono::steady_clock::now();
  RefineReport report;
  const auto total = static_cast<int64_t>(plan.layers.size());
  const std::string stage = options.rounding == Rounding::kAdaRound
                                ? (options.bias_correction ? "AdaRound + bias correction" : "AdaRound")
                                : "bias correction";
  const bool adaround = options.rounding == Rounding::kAdaRound;
  for (int64_t i = 0; i < total; ++i) {
    LayerPlan& l = plan.layers[static_cast<size_t>(i)];
    RefineOptions layer_options = options;
    const std::string name = fmt::format("{}, layer {}/{} ({})", stage, i + 1, total, l.name);
    if (adaround && options.on_progress) {  // per iteration, a bar per layer
      layer_options.adaround.on_step = [&](int64_t done, int64_t steps) { options.on_progress(name, done, steps); };
    }
    if (!l.kept_float && options.changes_anything()) {
      report.layers.push_back(refine_layer(model, calibration, plan, l, layer_options));
    }
    if (options.on_progress && !adaround) options.on_progress(stage, i + 1, total);
  }
  plan.rounding = rounding_name(options.rounding);
  plan.bias_corrected = options.bias_correction;
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace resnet8
