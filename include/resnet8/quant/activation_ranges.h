#pragma once
// Stage 1 of quantization, calibrate: run the float network on a calibration set and observe every
// activation that quantization will touch. The result serves the int8 file and the simulation alike.
//
// Activation points are named after what writes them (FoldedResNet8::forward): "input", the layer
// names ("stem.conv", "stackN.conv1", "stackN.conv2", "stackN.shortcut", "fc") and the residual adds
// after their ReLU ("stackN.add").
#include <resnet8/data/cifar10.h>
#include <resnet8/model/folded.h>
#include <resnet8/quant/observer.h>
#include <resnet8/quant/quant_params.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace resnet8 {

struct CalibrateOptions {
  ObserverKind observer = ObserverKind::kPercentile;
  int64_t batch_size = 500;  // images per forward call
  // Called as batches are done: (stage, images done, images in total).
  std::function<void(const std::string&, int64_t, int64_t)> on_progress;
};

// What calibration observed, per activation point, and the ranges the observer chooses from it.
class ActivationRanges {
 public:
  explicit ActivationRanges(ObserverKind observer = ObserverKind::kPercentile) : observer_(observer) {}

  ObserverKind observer() const { return observer_; }
  const std::vector<std::string>& points() const { return order_; }  // in the order the network writes them
  const RangeObserver& observed(const std::string& point) const;     // throws resnet8::Error if never observed
  // The range chosen for a `levels`-level quantizer; the input's is its known pixel range [0, 255].
  std::pair<double, double> range(const std::string& point, int64_t levels) const;
  // Unsigned `bits`-bit affine parameters for the point (ReLU outputs get zero point 0).
  QParams qparams(const std::string& point, int bits) const;

  void observe_minmax(const std::string& point, const at::Tensor& x);     // pass 1
  void observe_histogram(const std::string& point, const at::Tensor& x);  // pass 2 (histogram observers)

 private:
  ObserverKind observer_;
  std::map<std::string, RangeObserver> observers_;
  std::vector<std::string> order_;
};

// Runs `model` over `calibration` in batches: pass 1 records min/max, pass 2 (percentile and mse
// only) the histograms. Throws resnet8::Error for an empty set, OptionError for a batch size < 1.
ActivationRanges calibrate(const FoldedResNet8& model, const cifar10::Dataset& calibration,
                           const CalibrateOptions& options);

}  // namespace resnet8
