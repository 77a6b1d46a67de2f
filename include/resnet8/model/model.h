#pragma once
// The MLPerf Tiny ResNet8 as a torch::nn::Module, with the Keras model's semantics: NHWC float32
// input with raw 0..255 pixels, softmax probabilities over the 10 CIFAR-10 classes out.
//
//   stem:   conv3x3(3->16) BN ReLU                                      32x32
//   stack1: [conv3x3 BN ReLU conv3x3 BN] + identity, ReLU  (16)         32x32
//   stack2: [conv3x3/2 BN ReLU conv3x3 BN] + conv1x1/2, ReLU (32)       16x16
//   stack3: [conv3x3/2 BN ReLU conv3x3 BN] + conv1x1/2, ReLU (64)        8x8
//   global average pool, fc(64->10), softmax
// Batch norms use epsilon 1e-3 (Keras' default). Parameter names (stem.conv.weight,
// stack2.bn1.running_var, fc.bias, ...) are those of the TorchScript export.
#include <resnet8/model/same_conv.h>

#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/linear.h>

namespace resnet8 {

inline constexpr double kBatchNormEps = 1e-3;

class StemImpl : public torch::nn::Module {
 public:
  StemImpl();
  torch::Tensor forward(const torch::Tensor& x);

  SameConv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};
};
TORCH_MODULE(Stem);

// One residual stack; stride 2 halves the resolution and adds a 1x1 stride-2 shortcut conv.
class StackImpl : public torch::nn::Module {
 public:
  StackImpl(int64_t in_channels, int64_t out_channels, int64_t stride);
  torch::Tensor forward(const torch::Tensor& x);

  SameConv2d conv1{nullptr}, conv2{nullptr}, shortcut{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
};
TORCH_MODULE(Stack);

class ResNet8Impl : public torch::nn::Module {
 public:
  ResNet8Impl();
  // x: float32 [N, 32, 32, 3], 0..255. Returns float32 [N, 10] probabilities.
  torch::Tensor forward(const torch::Tensor& x);

  Stem stem{nullptr};
  Stack stack1{nullptr}, stack2{nullptr}, stack3{nullptr};
  torch::nn::Linear fc{nullptr};
};
TORCH_MODULE(ResNet8);

}  // namespace resnet8
