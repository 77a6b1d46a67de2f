#include <resnet8/quant/adaround.h>

#include <resnet8/quant/quant_params.h>
#include <resnet8/support/error.h>

#include <fmt/format.h>
#include <torch/torch.h>

namespace resnet8 {
namespace {

constexpr double kZeta = 1.1, kGamma = -0.1;

at::Tensor rectified_sigmoid(const at::Tensor& v) {
  return at::clamp(at::sigmoid(v) * (kZeta - kGamma) + kGamma, 0, 1);
}

// beta for iteration `it`, or 0 during the warm-up (no regulariser).
double beta_at(int64_t it, const AdaRoundOptions& o) {
  const auto warm = static_cast<int64_t>(o.warmup * static_cast<double>(o.iterations));
  if (it < warm) return 0;
  const double t = static_cast<double>(it - warm) / static_cast<double>(std::max<int64_t>(1, o.iterations - warm));
  return o.beta_end + (o.beta_start - o.beta_end) * (1 - t);
}

void check(const at::Tensor& w, const at::Tensor& scales, int bits, const LayerStatistics& stats,
           const AdaRoundOptions& o) {
  if (bits < 2 || bits > 16) throw OptionError("weight_bits", fmt::format("weight bits must be 2..16, got {}", bits));
  if (o.iterations < 1)
    throw OptionError("adaround_iterations", fmt::format("AdaRound iterations must be >= 1, got {}", o.iterations));
  if (w.dim() != 2 || !stats.gram.defined() || stats.gram.size(0) != w.size(1) ||
      (scales.numel() != 1 && scales.numel() != w.size(0))) {
    throw Error("adaround: the weights, scales and layer statistics do not match");
  }
}

}  // namespace

Rounding parse_rounding(const std::string& name) {
  if (name == "nearest") return Rounding::kNearest;
  if (name == "adaround") return Rounding::kAdaRound;
  throw OptionError("rounding", fmt::format("unknown rounding '{}'; expected nearest or adaround", name));
}

std::string rounding_name(Rounding rounding) { return rounding == Rounding::kAdaRound ? "adaround" : "nearest"; }

RoundingResult adaround(const at::Tensor& w, const at::Tensor& scales, int bits, const LayerStatistics& stats,
                        const AdaRoundOptions& o) {
  check(w, scales, bits, stats, o);
  torch::AutoGradMode autograd(true);
  const double qmax = static_cast<double>(symmetric_qmax(bits));
  // The optimisation runs in float32 (K x K products); the statistics were summed in float64.
  const at::Tensor wf = w.to(at::kFloat).detach().clone();
  const at::Tensor s = scales.to(at::kFloat).reshape({-1, 1}).clone();
  const at::Tensor gram = stats.gram.to(at::kFloat).clone();
  const at::Tensor linear = wf.mm(stats.cross.to(at::kFloat).t());  // d . linear = d C W^T
  // The fp32 output's mean square per channel: the loss is relative, whatever the layer's scale.
  const double energy =
      std::max(1e-30, (wf.to(at::kDouble).mm(stats.float_gram()) * wf.to(at::kDouble)).sum().item<double>() /
                          static_cast<double>(w.size(0)));
  const at::Tensor down = at::floor(wf / s);
  const at::Tensor rest = wf / s - down;
  at::Tensor v = (-at::log((kZeta - kGamma) / (rest - kGamma) - 1)).clamp(-10, 10).detach().requires_grad_(true);
  torch::optim::Adam adam({v}, torch::optim::AdamOptions(o.learning_rate));
  for (int64_t it = 0; it < o.iterations; ++it) {
    const at::Tensor h = rectified_sigmoid(v);
    const at::Tensor d = s * at::clamp(down + h, -qmax, qmax) - wf;
    // Two statements, in this order: autograd adds d's gradients in the order the graph was built, and C++
    // leaves the order of an expression's operands to the compiler, which would then choose the last bits of
    // every step and so some roundings (the order GCC chose for the single expression that was here).
    const at::Tensor linear_term = 2 * (d * linear).sum();
    const at::Tensor quadratic_term = (d.mm(gram) * d).sum();
    at::Tensor loss = (quadratic_term + linear_term) / energy;
    if (const double beta = beta_at(it, o); beta > 0) {
      loss = loss + o.regularization * (1 - (2 * h - 1).abs().pow(beta)).sum();
    }
    adam.zero_grad();
    loss.backward();
    adam.step();
    if (o.on_step && ((it + 1) % 100 == 0 || it + 1 == o.iterations)) o.on_step(it + 1, o.iterations);
  }
  torch::NoGradGuard no_grad;
  const at::Tensor h = rectified_sigmoid(v);
  RoundingResult r;
  r.soft = (h > 0).logical_and(h < 1).sum().item<int64_t>();
  r.integers = at::clamp(down + (h >= 0.5).to(at::kFloat), -qmax, qmax).to(at::kInt);
  const at::Tensor nearest = at::clamp(at::round(wf / s), -qmax, qmax);
  r.changed = (r.integers.to(at::kFloat) != nearest).sum().item<int64_t>();
  r.error_nearest = reconstruction_error(wf, nearest * s, stats);
  r.error_learned = reconstruction_error(wf, r.integers.to(at::kFloat) * s, stats);
  return r;
}

}  // namespace resnet8
