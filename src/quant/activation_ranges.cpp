#include <resnet8/quant/activation_ranges.h>

#include <resnet8/support/error.h>

#include <c10/core/InferenceMode.h>
#include <fmt/format.h>

#include <algorithm>

namespace resnet8 {

const RangeObserver& ActivationRanges::observed(const std::string& point) const {
  const auto it = observers_.find(point);
  if (it == observers_.end()) throw Error(fmt::format("no calibrated range for activation '{}'", point));
  return it->second;
}

std::pair<double, double> ActivationRanges::range(const std::string& point, int64_t levels) const {
  if (point == "input") return {0.0, 255.0};  // raw pixels: the range is known, not estimated
  return observed(point).range(observer_, levels);
}

QParams ActivationRanges::qparams(const std::string& point, int bits) const {
  if (bits < 2 || bits > 16)
    throw OptionError("activation_bits", fmt::format("activation bits must be 2..16, got {}", bits));
  const int64_t qmax = unsigned_qmax(bits);
  const auto [lo, hi] = range(point, qmax + 1);
  return affine_qparams(lo, hi, 0, qmax);
}

void ActivationRanges::observe_minmax(const std::string& point, const at::Tensor& x) {
  if (!observers_.count(point)) order_.push_back(point);
  observers_[point].observe_minmax(x);
}

void ActivationRanges::observe_histogram(const std::string& point, const at::Tensor& x) {
  observers_.at(point).observe_histogram(x);
}

ActivationRanges calibrate(const FoldedResNet8& model, const cifar10::Dataset& calibration,
                           const CalibrateOptions& options) {
  if (calibration.size() == 0) throw Error("the calibration set is empty");
  if (options.batch_size < 1) {
    throw OptionError("batch_size", fmt::format("calibration batch size must be >= 1, got {}", options.batch_size));
  }
  ActivationRanges ranges(options.observer);
  const int passes = options.observer == ObserverKind::kMinMax ? 1 : 2;
  c10::InferenceMode inference;
  for (int pass = 1; pass <= passes; ++pass) {
    for (int64_t begin = 0; begin < calibration.size(); begin += options.batch_size) {
      const int64_t end = std::min(begin + options.batch_size, calibration.size());
      model.forward(cifar10::to_model_input(calibration.images.slice(0, begin, end)),
                    [&](const std::string& point, const at::Tensor& t) {
                      if (pass == 1)
                        ranges.observe_minmax(point, t);
                      else
                        ranges.observe_histogram(point, t);
                    });
      if (options.on_progress) {
        options.on_progress(fmt::format("calibrating (pass {}/{})", pass, passes), end, calibration.size());
      }
    }
  }
  return ranges;
}

}  // namespace resnet8
