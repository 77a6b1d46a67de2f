#include <resnet8/model/model.h>

#include <torch/torch.h>

namespace resnet8 {
namespace {

torch::nn::BatchNorm2d batch_norm(int64_t channels) {
  return torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(channels).eps(kBatchNormEps));
}

}  // namespace

StemImpl::StemImpl()
    : conv(register_module("conv", SameConv2d(3, 16, 3, 1))), bn(register_module("bn", batch_norm(16))) {}

torch::Tensor StemImpl::forward(const torch::Tensor& x) { return torch::relu(bn(conv(x))); }

StackImpl::StackImpl(int64_t in_channels, int64_t out_channels, int64_t stride)
    : conv1(register_module("conv1", SameConv2d(in_channels, out_channels, 3, stride))),
      conv2(register_module("conv2", SameConv2d(out_channels, out_channels, 3, 1))),
      bn1(register_module("bn1", batch_norm(out_channels))),
      bn2(register_module("bn2", batch_norm(out_channels))) {
  if (stride != 1 || in_channels != out_channels) {
    shortcut = register_module("shortcut", SameConv2d(in_channels, out_channels, 1, stride));
  }
}

torch::Tensor StackImpl::forward(const torch::Tensor& x) {
  torch::Tensor y = torch::relu(bn1(conv1(x)));
  y = bn2(conv2(y));
  return torch::relu((shortcut ? shortcut(x) : x) + y);
}

ResNet8Impl::ResNet8Impl()
    : stem(register_module("stem", Stem())),
      stack1(register_module("stack1", Stack(16, 16, 1))),
      stack2(register_module("stack2", Stack(16, 32, 2))),
      stack3(register_module("stack3", Stack(32, 64, 2))),
      fc(register_module("fc", torch::nn::Linear(64, 10))) {}

torch::Tensor ResNet8Impl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 4 && x.size(3) == 3, "ResNet8 expects NHWC input [N, H, W, 3], got ", x.sizes());
  torch::Tensor y = x.permute({0, 3, 1, 2});  // NCHW view with channels-last strides, no copy
  y = stack3(stack2(stack1(stem(y))));
  y = y.mean({2, 3});  // the 8x8 average pool + flatten
  return torch::softmax(fc(y), 1);
}

}  // namespace resnet8
