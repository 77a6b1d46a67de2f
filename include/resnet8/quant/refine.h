#pragma once
// Stage 2b of quantization, refine: improve a plan's weights and biases against calibration data,
// layer by layer in execution order, each layer seeing the refined, quantized layers before it:
//   - learned rounding (AdaRound, adaround.h) in place of round-to-nearest;
//   - empirical bias correction (bias_correction.h), after the rounding.
// The plan's scales, activation parameters and bit-widths stay as make_plan() chose them. Cross-layer
// equalization (equalize.h) is a stage before calibration, not part of this one.
#include <resnet8/data/cifar10.h>
#include <resnet8/model/folded.h>
#include <resnet8/quant/adaround.h>
#include <resnet8/quant/quant_plan.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace resnet8 {

struct RefineOptions {
  Rounding rounding = Rounding::kNearest;
  bool bias_correction = false;
  AdaRoundOptions adaround;
  int64_t batch_size = 100;  // calibration images per forward call while gathering statistics
  // Progress: with AdaRound, (stage naming the layer, iterations done, iterations) as it optimises each layer;
  // else (stage, layers done, layers in total) after each layer.
  std::function<void(const std::string&, int64_t, int64_t)> on_progress;

  bool changes_anything() const { return rounding != Rounding::kNearest || bias_correction; }
};

// What refining did to one layer. Errors are the layer's reconstruction error (layer_statistics.h).
struct LayerRefinement {
  std::string layer;
  double error_nearest = 0;      // with round-to-nearest weights
  double error = 0;              // with the refined weights and bias
  int64_t rounding_changed = 0;  // weights AdaRound rounded otherwise than to nearest
  int64_t rounding_soft = 0;     // AdaRound variables not at exactly 0/1 when it ended
  double max_bias_shift = 0;     // largest |correction| of the bias, in output units
};

struct RefineReport {
  std::vector<LayerRefinement> layers;
  double seconds = 0;
};

// Refines the quantized layers of `plan`, made by make_plan() from `model`, on `calibration`; records
// the methods in the plan (QuantPlan::rounding, bias_corrected). Layers kept in fp32 are left alone.
RefineReport refine(const FoldedResNet8& model, const cifar10::Dataset& calibration, QuantPlan& plan,
                    const RefineOptions& options);

}  // namespace resnet8
