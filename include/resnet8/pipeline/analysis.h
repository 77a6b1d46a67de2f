#pragma once
// Simulated-quantization analysis of the folded fp32 network (resnet8-analyze): plans at any
// bit-width, written as simulated models (simulate.h) and evaluated on a test set.
//   sweep()                   accuracy for every (weight bits, activation bits) pair, per-tensor and
//                             per-channel weights; every layer, the input and the residual adds quantized
//   layer_sensitivity()       the accuracy drop with only one layer (weights and output) quantized
//   mixed_precision_search()  keep the most sensitive layers in fp32, one more at a time, until the drop
//                             is within a bound (input and residual adds stay quantized)
//   compare_methods()         accuracy per bit-width with each way of making the plan: round-to-nearest,
//                             weight MSE ranges, cross-layer equalization, bias correction, AdaRound
//   what_if()                 one plan, with the full reports (per class, confusion matrix) beside fp32
// Accuracies and drops are in percent / percentage points.
#include <resnet8/data/cifar10.h>
#include <resnet8/model/folded.h>
#include <resnet8/quant/activation_ranges.h>
#include <resnet8/quant/observer.h>
#include <resnet8/quant/planner.h>
#include <resnet8/quant/refine.h>
#include <resnet8/run/evaluate.h>

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

namespace resnet8 {

struct BitWidths {
  int weight_bits = 8;
  int activation_bits = 8;
  std::string name() const;  // "w4a8"
};

struct SweepPoint {
  bool per_channel = true;
  BitWidths bits;
  double accuracy = 0;
};

struct LayerSensitivity {
  std::string layer;
  BitWidths bits;
  double drop = 0;  // fp32 accuracy minus the accuracy with only this layer quantized
};

struct MixedPrecisionStep {
  std::vector<std::string> fp32_layers;  // k = its size
  double accuracy = 0, drop = 0;
};

struct MixedPrecision {
  BitWidths bits;
  double max_drop = 0;
  std::vector<MixedPrecisionStep> steps;  // k = 0, 1, ... up to the first within max_drop (or all layers)
};

// Called after each simulated evaluation: (evaluations done, evaluations in total).
using AnalysisProgress = std::function<void(int64_t, int64_t)>;

// What a plan gets beyond make_plan()'s options: equalization before calibration, and the refine stage.
struct PlanMethods {
  bool equalize = false;
  RefineOptions refine;
};

// A folded model, a calibration set and a test set: simulated accuracy of any plan options and methods.
// `base` holds the plan options every analysis plan shares (e.g. the weight range), `methods` the methods;
// bit-widths, granularity and the float layers/points are set per run.
class Analyzer {
 public:
  Analyzer(const FoldedResNet8& model, const cifar10::Dataset& calibration, ObserverKind observer,
           const cifar10::Dataset& test, EvalOptions eval, PlanOptions base = {}, PlanMethods methods = {});
  const PlanOptions& base() const { return base_; }
  const PlanMethods& methods() const { return methods_; }
  double fp32_accuracy() const { return 100.0 * fp32_.accuracy(); }
  const EvalReport& fp32_report() const { return fp32_; }
  double accuracy(const PlanOptions& options) const { return accuracy(options, methods_); }
  double accuracy(const PlanOptions& options, const PlanMethods& methods) const;
  // The plan simulated (on the equalized network if the plan says so) and evaluated on the test set.
  EvalReport report(const QuantPlan& plan) const;
  // The plan itself: calibrated on the (equalized, if asked) network, made, refined.
  QuantPlan plan(const PlanOptions& options, const PlanMethods& methods) const;
  const std::vector<std::string>& layers() const { return layers_; }
  const std::vector<std::string>& points() const { return ranges_.points(); }

 private:
  const FoldedResNet8& network(bool equalized) const;
  const ActivationRanges& ranges(bool equalized) const;

  const FoldedResNet8& model_;
  const cifar10::Dataset& calibration_;
  const cifar10::Dataset& test_;
  EvalOptions eval_;
  PlanOptions base_;
  PlanMethods methods_;
  ActivationRanges ranges_;
  mutable FoldedResNet8 equalized_;  // made and calibrated on first use
  mutable ActivationRanges equalized_ranges_;
  std::vector<std::string> layers_;
  EvalReport fp32_;
};

std::vector<SweepPoint> sweep(const Analyzer& analyzer, const std::vector<int>& bits,
                              const AnalysisProgress& progress = nullptr);
std::vector<LayerSensitivity> layer_sensitivity(const Analyzer& analyzer, const std::vector<BitWidths>& configs,
                                                const AnalysisProgress& progress = nullptr);
// Ranks layers by their drop at `bits`, taken from `known` where it has them (else measured).
MixedPrecision mixed_precision_search(const Analyzer& analyzer, const BitWidths& bits, double max_drop,
                                      const std::vector<LayerSensitivity>& known = {});

// One way of making a plan, a column of compare_methods().
struct PlanMethod {
  std::string name;  // "nearest", "+weight MSE", ...
  WeightRange weight_range = WeightRange::kMax;
  PlanMethods methods;
};

// The columns, cumulative where their names start with '+': nearest (max|w| scales); +weight MSE;
// +CLE; +bias correction; AdaRound (learned rounding on MSE scales); and all of them together. AdaRound's
// settings come from `adaround`.
std::vector<PlanMethod> plan_methods(const AdaRoundOptions& adaround = {});

struct MethodAccuracy {
  std::string method;  // PlanMethod::name
  double accuracy = 0;
};

struct MethodComparison {
  BitWidths bits;
  std::vector<MethodAccuracy> accuracy;  // per method, in the order compare_methods() was given them
};

// Per bit-width, the simulated accuracy of every method (per-channel weights, everything quantized).
std::vector<MethodComparison> compare_methods(const Analyzer& analyzer, const std::vector<BitWidths>& bits,
                                              const std::vector<PlanMethod>& methods,
                                              const AnalysisProgress& progress = nullptr);

// One plan made with the analyzer's options and methods at `bits`, per-channel or per-tensor weights, the
// `float_layers` kept in fp32 (their output points stay quantized), simulated: a "what if" beside fp32.
struct WhatIf {
  BitWidths bits;
  bool per_channel = true;
  std::set<std::string> float_layers;
  QuantPlan plan;
  EvalReport fp32, simulated;
};

WhatIf what_if(const Analyzer& analyzer, const BitWidths& bits, bool per_channel,
               const std::set<std::string>& float_layers);

}  // namespace resnet8
