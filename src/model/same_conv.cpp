#include <resnet8/model/same_conv.h>

#include <torch/nn/init.h>
#include <torch/torch.h>

namespace resnet8 {

SameConv2dImpl::SameConv2dImpl(int64_t in_channels, int64_t out_channels, int64_t kernel, int64_t stride)
    : kernel_(kernel), stride_(stride) {
  weight = register_parameter("weight", torch::empty({out_channels, in_channels, kernel, kernel}));
  bias = register_parameter("bias", torch::zeros({out_channels}));
  torch::nn::init::kaiming_uniform_(weight, std::sqrt(5.0));  // torch::nn::Conv2d's default
}

torch::Tensor SameConv2dImpl::forward(const torch::Tensor& x) {
  const auto [top, bottom] = same_padding(x.size(2), kernel_, stride_);
  const auto [left, right] = same_padding(x.size(3), kernel_, stride_);
  if (top == bottom && left == right) {
    return torch::conv2d(x, weight, bias, stride_, {top, left});
  }
  return torch::conv2d(torch::constant_pad_nd(x, {left, right, top, bottom}), weight, bias, stride_);
}

}  // namespace resnet8
