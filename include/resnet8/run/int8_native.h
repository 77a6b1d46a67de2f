#pragma once
// The native int8 runner: a quantization plan run directly on LibTorch's quantized kernels from C++,
// with no TorchScript interpreter in the loop. The int8 counterpart of FoldedResNet8 (the native fp32
// path): built from a plan (read_quantized_plan() reads one from an int8 file, as data only), its packed
// weights made for the engine current when it is built. It computes exactly what the int8 TorchScript
// module of the same plan computes (int8_torchscript.h): the same kernels with the same parameters, in the
// same order, so their outputs are bit-identical.
#include <resnet8/quant/quant_plan.h>

#include <ATen/core/Tensor.h>

#include <memory>
#include <string>

namespace resnet8 {

class Int8ResNet8 {
 public:
  // Throws OptionError for a plan int8 kernels cannot run (check_int8_plan()).
  explicit Int8ResNet8(const QuantPlan& plan);

  // x: float32 NHWC [N, 32, 32, 3], 0..255 -> softmax probabilities [N, 10].
  at::Tensor forward(const at::Tensor& x) const;

  const std::string& engine() const;  // the engine its packed weights were made for

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

}  // namespace resnet8
