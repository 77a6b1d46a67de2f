#pragma once
// A convolution with TensorFlow/Keras padding='same' semantics.
//
// TensorFlow pads a total of max((ceil(in/stride) - 1) * stride + kernel - in, 0) and puts the odd
// element after: a 3x3 stride-2 convolution on an even-sized input pads 0 before and 1 after, which
// PyTorch's symmetric `padding` cannot express. Parameters are named `weight` and `bias` like
// torch::nn::Conv2d's, so TorchScript exports of nn.Conv2d load into it by name.
#include <resnet8/model/graph.h>  // same_padding()

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <utility>

namespace resnet8 {

class SameConv2dImpl : public torch::nn::Module {
 public:
  SameConv2dImpl(int64_t in_channels, int64_t out_channels, int64_t kernel, int64_t stride);
  torch::Tensor forward(const torch::Tensor& x);

  torch::Tensor weight;  // [out, in, kernel, kernel]
  torch::Tensor bias;    // [out]

 private:
  int64_t kernel_;
  int64_t stride_;
};
TORCH_MODULE(SameConv2d);

}  // namespace resnet8
