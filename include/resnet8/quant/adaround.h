#pragma once
// AdaRound (Nagel et al., "Up or Down? Adaptive Rounding for Post-Training Quantization", 2020): per
// layer, learn for each weight whether it rounds down or up, so that the quantized layer's output on
// the calibration data matches the fp32 layer's (layer_statistics.h: asymmetric reconstruction, the
// input coming from the quantized upstream network).
//
// Weight i becomes scale * clamp(floor(w_i / scale) + h(v_i), -qmax, qmax), h the rectified sigmoid
// clamp(sigmoid(v) * (zeta - gamma) + gamma, 0, 1) with zeta = 1.1, gamma = -0.1, v initialised so that
// h(v) = w / scale - floor(w / scale). The loss is the reconstruction error divided by the fp32 output's
// mean square per channel, plus, after a warm-up, lambda * sum(1 - |2h - 1|^beta) with beta annealed
// from beta_start to beta_end, which drives every h to exactly 0 or 1. Adam on v, full-batch: the
// statistics are exact second moments, so the result is deterministic for a given calibration set.
#include <resnet8/quant/layer_statistics.h>

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <string>

namespace resnet8 {

enum class Rounding { kNearest, kAdaRound };

Rounding parse_rounding(const std::string& name);  // "nearest" | "adaround"; throws OptionError("rounding")
std::string rounding_name(Rounding rounding);

struct AdaRoundOptions {
  int64_t iterations = 10000;
  double learning_rate = 1e-3;
  double regularization = 0.01;  // lambda
  double beta_start = 20, beta_end = 2;
  double warmup = 0.2;  // fraction of the iterations without the rounding regulariser
  // Called every 100 iterations and after the last: (iterations done, iterations in total).
  std::function<void(int64_t, int64_t)> on_step;
};

struct RoundingResult {
  at::Tensor integers;       // [out, K] int32 in [-qmax, qmax]
  double error_nearest = 0;  // reconstruction error (layer_statistics.h) of round-to-nearest
  double error_learned = 0;  // of the learned rounding
  int64_t soft = 0;          // rounding variables not at exactly 0 or 1 when the optimisation ended
  int64_t changed = 0;       // weights rounded otherwise than to nearest
};

// w: fp32 weights [out, K]; scales: [out] or [1] (float32, as the plan stores them); bits 2..16.
RoundingResult adaround(const at::Tensor& w, const at::Tensor& scales, int bits, const LayerStatistics& stats,
                        const AdaRoundOptions& options = {});

}  // namespace resnet8
