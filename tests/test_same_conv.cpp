#include "testing.h"

#include <resnet8/model/same_conv.h>

using resnet8::same_padding;
using resnet8::SameConv2d;

namespace {

// A conv whose kernel is all ones and bias zero: each output is the sum of its window.
SameConv2d summing_conv(int64_t kernel, int64_t stride) {
  SameConv2d conv(1, 1, kernel, stride);
  torch::NoGradGuard no_grad;
  conv->weight.fill_(1.0);
  conv->bias.zero_();
  return conv;
}

torch::Tensor image(std::vector<float> values, int64_t side) {
  return torch::tensor(values).reshape({1, 1, side, side});
}

}  // namespace

TEST_CASE("same_padding follows TensorFlow's rule: the odd pixel goes after") {
  CHECK(same_padding(32, 3, 1) == std::pair<int64_t, int64_t>{1, 1});
  CHECK(same_padding(32, 3, 2) == std::pair<int64_t, int64_t>{0, 1});
  CHECK(same_padding(16, 3, 2) == std::pair<int64_t, int64_t>{0, 1});
  CHECK(same_padding(32, 1, 2) == std::pair<int64_t, int64_t>{0, 0});
  CHECK(same_padding(5, 3, 2) == std::pair<int64_t, int64_t>{1, 1});
  CHECK(same_padding(4, 4, 2) == std::pair<int64_t, int64_t>{1, 1});
}

TEST_CASE("3x3 stride-2 'same' conv on 4x4 ones: the zero padding is at the bottom/right only") {
  torch::NoGradGuard no_grad;
  const auto y = summing_conv(3, 2)(torch::ones({1, 1, 4, 4}));
  // Window (0,0) covers rows/cols 0..2 (9 ones); windows touching row/col 4 see the padding.
  CHECK(torch::equal(y, image({9, 6, 6, 4}, 2)));
  // A symmetric padding of 1 would give [[4, 6], [6, 9]]: the bug this module exists to avoid.
  CHECK_FALSE(torch::equal(y, torch::conv2d(torch::ones({1, 1, 4, 4}), torch::ones({1, 1, 3, 3}), {}, 2, 1)));
}

TEST_CASE("3x3 stride-1 'same' conv pads one on every side") {
  torch::NoGradGuard no_grad;
  const auto y = summing_conv(3, 1)(torch::ones({1, 1, 3, 3}));
  CHECK(torch::equal(y, image({4, 6, 4, 6, 9, 6, 4, 6, 4}, 3)));
}

TEST_CASE("1x1 stride-2 'same' conv samples the even rows and columns") {
  torch::NoGradGuard no_grad;
  const auto x = torch::arange(16, torch::kFloat).reshape({1, 1, 4, 4});
  CHECK(torch::equal(summing_conv(1, 2)(x), image({0, 2, 8, 10}, 2)));
}

TEST_CASE("SameConv2d names its parameters like nn.Conv2d") {
  SameConv2d conv(3, 16, 3, 2);
  const auto params = conv->named_parameters();
  REQUIRE(params.size() == 2);
  CHECK(params.contains("weight"));
  CHECK(params.contains("bias"));
  CHECK((params["weight"].sizes() == torch::IntArrayRef{16, 3, 3, 3}));
}
