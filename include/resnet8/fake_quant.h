#pragma once
// Simulated ("fake") quantization for analysis at bit-widths LibTorch has no kernels for: values are
// quantized and immediately dequantized, the network runs in float.
//
//   weights      symmetric, signed, b bits: q = clamp(round(w / s), -(2^(b-1) - 1), 2^(b-1) - 1),
//                s = max|w| / (2^(b-1) - 1), per output channel (dim 0) or per tensor
//   activations  affine, unsigned, b bits: q = clamp(round(x / s) + z, 0, 2^b - 1), (s, z) from the
//                calibrated range (observer.h) for 2^b levels
#include <resnet8/cifar10.h>
#include <resnet8/folded.h>
#include <resnet8/observer.h>

#include <ATen/core/Tensor.h>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace resnet8 {

at::Tensor fake_quant_affine(const at::Tensor& x, double scale, int64_t zero_point, int64_t qmin, int64_t qmax);
at::Tensor fake_quant_weight(const at::Tensor& w, int bits, bool per_channel);

// Layer names: FoldedConv::name ("stem.conv", "stack2.shortcut", ...) and "fc".
std::vector<std::string> quantizable_layers(const FoldedResNet8& model);
// The activation point a layer writes (FoldedResNet8::Observe names).
std::string output_point(const std::string& layer);

struct FakeQuantConfig {
  int weight_bits = 8;
  bool per_channel = true;
  int activation_bits = 8;
  // Layers left in fp32 (weights and output activation); every other layer is quantized.
  std::set<std::string> float_layers;
  // Also quantize the network input and the residual adds' outputs.
  bool input_and_adds = true;
};

// Calibrated activation ranges, observed once on the float model.
class ActivationRanges {
 public:
  ActivationRanges(const FoldedResNet8& model, const cifar10::Dataset& calibration, ObserverKind observer);
  QParams qparams(const std::string& point, int bits) const;

 private:
  std::map<std::string, RangeObserver> observers_;
  ObserverKind kind_;
};

// A copy of `model` with fake-quantized weights, and the activation transform for `config`.
struct FakeQuantModel {
  FoldedResNet8 model;
  FoldedResNet8::Transform transform;
  at::Tensor forward(const at::Tensor& x) const { return model.forward(x, nullptr, transform); }
};
FakeQuantModel fake_quantize(const FoldedResNet8& model, const ActivationRanges& ranges, const FakeQuantConfig& config);

}  // namespace resnet8
