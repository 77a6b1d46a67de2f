#pragma once
// Activation range observers for post-training quantization, and the affine quantization
// parameters that follow from a range.
//
// Calibration runs in two passes: pass 1 records min/max; pass 2 (histogram observers only)
// builds a 2048-bin histogram over [min, max], keeping exact zeros (ReLU outputs) apart because 0
// is always represented exactly. The range is then:
//   minmax      [min, max]
//   percentile  the 0.01th and 99.99th percentiles
//   mse         [a*min, a*max] for the a in (0, 1] that minimises the expected squared
//               quantization error (clipping + rounding) over the histogram
#include <resnet8/quant/quant_params.h>

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace resnet8 {

class RangeObserver {
 public:
  static constexpr int64_t kBins = 2048;

  void observe_minmax(const at::Tensor& x);     // pass 1
  void observe_histogram(const at::Tensor& x);  // pass 2, after every pass-1 call
  // The calibrated range for `kind`, for a quantizer with `levels` integer levels (e.g. 256).
  std::pair<double, double> range(ObserverKind kind, int64_t levels) const;
  double min() const { return min_; }
  double max() const { return max_; }

 private:
  double min_ = 0, max_ = 0;
  bool seen_ = false;
  std::vector<double> hist_ = std::vector<double>(kBins, 0.0);
  double zeros_ = 0;
};

}  // namespace resnet8
