#include <resnet8/pipeline/analysis.h>

#include <resnet8/quant/equalize.h>
#include <resnet8/quant/simulate.h>
#include <resnet8/support/error.h>

#include <fmt/format.h>

#include <algorithm>

namespace resnet8 {
namespace {

PlanOptions plan_options(const Analyzer& analyzer, const BitWidths& bits, bool per_channel = true) {
  PlanOptions o = analyzer.base();
  o.weight_bits = bits.weight_bits;
  o.activation_bits = bits.activation_bits;
  o.per_channel = per_channel;
  return o;
}

// Only `layer` quantized: its weights and its output; every other layer and point stays float.
double drop_with_only(const Analyzer& analyzer, const std::string& layer, const BitWidths& bits) {
  PlanOptions o = plan_options(analyzer, bits);
  for (const auto& l : analyzer.layers()) {
    if (l != layer) o.float_layers.insert(l);
  }
  for (const auto& p : analyzer.points()) {
    if (p != layer) o.float_points.insert(p);
  }
  return analyzer.fp32_accuracy() - analyzer.accuracy(o);
}

}  // namespace

std::string BitWidths::name() const { return fmt::format("w{}a{}", weight_bits, activation_bits); }

Analyzer::Analyzer(const FoldedResNet8& model, const cifar10::Dataset& calibration, ObserverKind observer,
                   const cifar10::Dataset& test, EvalOptions eval, PlanOptions base, PlanMethods methods)
    : model_(model),
      calibration_(calibration),
      test_(test),
      eval_(std::move(eval)),
      base_(std::move(base)),
      methods_(std::move(methods)),
      ranges_(calibrate(model, calibration, {observer, 500, nullptr})),
      equalized_ranges_(observer),
      layers_(layer_names(model)) {
  const Classifier fp32{[this](const at::Tensor& x) { return model_.forward(x); }, ModelKind::kNative, "", "", 0};
  fp32_ = evaluate(fp32, test_, eval_);
}

const FoldedResNet8& Analyzer::network(bool equalized) const {
  if (!equalized) return model_;
  if (!equalized_.fc_weight.defined()) {  // first use: equalize and calibrate once
    equalized_ = equalize(model_);
    equalized_ranges_ = calibrate(equalized_, calibration_, {ranges_.observer(), 500, nullptr});
  }
  return equalized_;
}

const ActivationRanges& Analyzer::ranges(bool equalized) const {
  network(equalized);
  return equalized ? equalized_ranges_ : ranges_;
}

QuantPlan Analyzer::plan(const PlanOptions& options, const PlanMethods& methods) const {
  const FoldedResNet8& net = network(methods.equalize);
  QuantPlan plan = make_plan(net, ranges(methods.equalize), options);
  plan.equalized = methods.equalize;
  if (methods.refine.changes_anything()) refine(net, calibration_, plan, methods.refine);
  return plan;
}

EvalReport Analyzer::report(const QuantPlan& plan) const {
  const SimulatedModel m = simulate(network(plan.equalized), plan);
  const Classifier c{[&m](const at::Tensor& x) { return m.forward(x); }, ModelKind::kSimulated, "", "", 0};
  return evaluate(c, test_, eval_);
}

double Analyzer::accuracy(const PlanOptions& options, const PlanMethods& methods) const {
  return 100.0 * report(plan(options, methods)).accuracy();
}

WhatIf what_if(const Analyzer& analyzer, const BitWidths& bits, bool per_channel,
               const std::set<std::string>& float_layers) {
  PlanOptions options = plan_options(analyzer, bits, per_channel);
  options.float_layers = float_layers;
  WhatIf w{bits, per_channel, float_layers, analyzer.plan(options, analyzer.methods()), analyzer.fp32_report(), {}};
  w.simulated = analyzer.report(w.plan);
  return w;
}

std::vector<SweepPoint> sweep(const Analyzer& analyzer, const std::vector<int>& bits,
                              const AnalysisProgress& progress) {
  std::vector<SweepPoint> out;
  const int64_t total = 2 * static_cast<int64_t>(bits.size() * bits.size());
  for (const bool per_channel : {false, true}) {
    for (int w : bits) {
      for (int a : bits) {
        const BitWidths b{w, a};
        out.push_back({per_channel, b, analyzer.accuracy(plan_options(analyzer, b, per_channel))});
        if (progress) progress(static_cast<int64_t>(out.size()), total);
      }
    }
  }
  return out;
}

std::vector<LayerSensitivity> layer_sensitivity(const Analyzer& analyzer, const std::vector<BitWidths>& configs,
                                                const AnalysisProgress& progress) {
  std::vector<LayerSensitivity> out;
  const int64_t total = static_cast<int64_t>(configs.size() * analyzer.layers().size());
  for (const BitWidths& b : configs) {
    for (const auto& layer : analyzer.layers()) {
      out.push_back({layer, b, drop_with_only(analyzer, layer, b)});
      if (progress) progress(static_cast<int64_t>(out.size()), total);
    }
  }
  return out;
}

MixedPrecision mixed_precision_search(const Analyzer& analyzer, const BitWidths& bits, double max_drop,
                                      const std::vector<LayerSensitivity>& known) {
  std::vector<std::pair<std::string, double>> ranking;
  for (const auto& layer : analyzer.layers()) {
    const auto it = std::find_if(known.begin(), known.end(), [&](const LayerSensitivity& s) {
      return s.layer == layer && s.bits.name() == bits.name();
    });
    ranking.push_back({layer, it != known.end() ? it->drop : drop_with_only(analyzer, layer, bits)});
  }
  std::stable_sort(ranking.begin(), ranking.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  MixedPrecision out{bits, max_drop, {}};
  PlanOptions o = plan_options(analyzer, bits);
  for (size_t k = 0; k <= ranking.size(); ++k) {
    if (k > 0) {
      o.float_layers.insert(ranking[k - 1].first);
      o.float_points.insert(ranking[k - 1].first);  // its output stays float too
    }
    MixedPrecisionStep step;
    for (size_t i = 0; i < k; ++i) step.fp32_layers.push_back(ranking[i].first);
    step.accuracy = analyzer.accuracy(o);
    step.drop = analyzer.fp32_accuracy() - step.accuracy;
    out.steps.push_back(step);
    if (step.drop <= max_drop) break;
  }
  return out;
}

}  // namespace resnet8

namespace resnet8 {

std::vector<PlanMethod> plan_methods(const AdaRoundOptions& adaround) {
  PlanMethods cle, cle_bc, ada, all;
  cle.equalize = true;
  cle_bc = cle;
  cle_bc.refine.bias_correction = true;
  ada.refine.rounding = Rounding::kAdaRound;
  ada.refine.adaround = adaround;
  all = cle_bc;
  all.refine.rounding = Rounding::kAdaRound;
  all.refine.adaround = adaround;
  return {{"nearest", WeightRange::kMax, {}},   {"+weight MSE", WeightRange::kMse, {}},
          {"+CLE", WeightRange::kMse, cle},     {"+bias correction", WeightRange::kMse, cle_bc},
          {"AdaRound", WeightRange::kMse, ada}, {"all", WeightRange::kMse, all}};
}

std::vector<MethodComparison> compare_methods(const Analyzer& analyzer, const std::vector<BitWidths>& bits,
                                              const std::vector<PlanMethod>& methods,
                                              const AnalysisProgress& progress) {
  std::vector<MethodComparison> out;
  const auto total = static_cast<int64_t>(bits.size() * methods.size());
  int64_t done = 0;
  for (const BitWidths& b : bits) {
    MethodComparison row{b, {}};
    for (const PlanMethod& m : methods) {
      PlanOptions o = plan_options(analyzer, b);
      o.weight_range = m.weight_range;
      row.accuracy.push_back({m.name, analyzer.accuracy(o, m.methods)});
      if (progress) progress(++done, total);
    }
    out.push_back(row);
  }
  return out;
}

}  // namespace resnet8
