// The direct float kernels (run/float_direct.h): each level this CPU runs against LibTorch's convolution on random
// layers (geometries ResNet8 does not have included: channels that are not multiples of 16, rows that are not
// multiples of the tile, asymmetric padding), and, in suite "e2e", the whole fp32 network against
// FoldedResNet8::forward (LibTorch's kernels) on real test images, on one core and split over two (SplitWorker).
#include <resnet8/data/cifar10.h>
#include <resnet8/data/weights.h>
#include <resnet8/model/folded.h>
#include <resnet8/model/model.h>
#include <resnet8/program/split_worker.h>
#include <resnet8/run/float_direct.h>

#include "run/float_conv.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "testing.h"

namespace {

using resnet8::FloatLevel;

std::vector<FloatLevel> levels_here() {
  std::vector<FloatLevel> out;
  for (FloatLevel l : {FloatLevel::kPortable, FloatLevel::kAvx2, FloatLevel::kAvx512}) {
    if (resnet8::float_level_supported(l)) out.push_back(l);
  }
  return out;
}

resnet8::direct::ConvRows rows_of(FloatLevel l) {
  switch (l) {
    case FloatLevel::kAvx2: return resnet8::direct::conv_rows_avx2;
    case FloatLevel::kAvx512: return resnet8::direct::conv_rows_avx512;
    case FloatLevel::kPortable: break;
  }
  return resnet8::direct::conv_rows_portable;
}

int32_t between(std::mt19937& rng, int32_t lo, int32_t hi) {
  return std::uniform_int_distribution<int32_t>(lo, hi)(rng);
}

// A random layer run by `rows` (packed as float_conv.h says) against at::conv2d of the same weights, input and
// padding; returns max |difference| / (1 + max |LibTorch's output|).
double random_layer_difference(std::mt19937& rng, resnet8::direct::ConvRows rows) {
  resnet8::direct::FloatConv c;
  c.kernel = between(rng, 1, 4), c.stride = between(rng, 1, 2);
  c.in_height = between(rng, 1, 11), c.in_width = between(rng, 1, 19), c.in_channels = between(rng, 1, 40);
  c.out_channels = between(rng, 1, 40);
  c.pad_top = between(rng, 0, c.kernel - 1), c.pad_left = between(rng, 0, c.kernel - 1);
  c.out_height = std::max(1, (c.in_height + c.pad_top - c.kernel) / c.stride + 1 + between(rng, 0, 1));
  c.out_width = std::max(1, (c.in_width + c.pad_left - c.kernel) / c.stride + 1 + between(rng, 0, 1));
  c.padded_height = std::max((c.out_height - 1) * c.stride + c.kernel, c.pad_top + c.in_height);
  c.padded_width = std::max((c.out_width - 1) * c.stride + c.kernel, c.pad_left + c.in_width);
  c.relu = between(rng, 0, 1) == 1;
  const at::Tensor weight = torch::randn({c.out_channels, c.in_channels, c.kernel, c.kernel});
  const at::Tensor bias = torch::randn({c.out_channels});
  const at::Tensor input = torch::randn({1, c.in_height, c.in_width, c.in_channels});  // NHWC
  const int32_t blocks = (c.out_channels + 15) / 16, k = c.kernel;
  std::vector<float> packed(static_cast<size_t>(blocks * k * k * c.in_channels * 16), 0.0f);
  std::vector<float> b(static_cast<size_t>(blocks * 16), 0.0f);
  const auto w = weight.accessor<float, 4>();
  for (int32_t oc = 0; oc < c.out_channels; ++oc) {
    b[static_cast<size_t>(oc)] = bias[oc].item<float>();
    for (int32_t ky = 0; ky < k; ++ky)
      for (int32_t kx = 0; kx < k; ++kx)
        for (int32_t ic = 0; ic < c.in_channels; ++ic)
          packed[static_cast<size_t>(((((oc / 16) * k + ky) * k + kx) * c.in_channels + ic) * 16 + oc % 16)] =
              w[oc][ic][ky][kx];
  }
  c.weights = packed.data(), c.bias = b.data();
  // The padded image: the input at (pad_top, pad_left), zeros elsewhere.
  at::Tensor padded = torch::zeros({c.padded_height, c.padded_width, c.in_channels});
  padded.slice(0, c.pad_top, c.pad_top + c.in_height).slice(1, c.pad_left, c.pad_left + c.in_width).copy_(input[0]);
  padded = padded.contiguous();
  std::vector<float> out(static_cast<size_t>(c.out_height * c.out_width * c.out_channels), -1.0f);
  rows(c, padded.data_ptr<float>(), out.data(), 0, c.out_height);
  // LibTorch: the same padded image, NCHW, its first out rows and columns of output.
  at::Tensor expected = at::conv2d(padded.permute({2, 0, 1}).unsqueeze(0), weight, bias, {c.stride, c.stride});
  expected = expected.slice(2, 0, c.out_height).slice(3, 0, c.out_width);
  if (c.relu) expected = at::relu(expected);
  const at::Tensor got = torch::from_blob(out.data(), {c.out_height, c.out_width, c.out_channels}).permute({2, 0, 1});
  return (got - expected[0]).abs().max().item<double>() / (1 + expected.abs().max().item<double>());
}

}  // namespace

TEST_CASE("the direct float convolution of every level this CPU runs equals LibTorch's on 300 random layers") {
  for (FloatLevel l : levels_here()) {
    INFO(resnet8::float_level_name(l));
    std::mt19937 rng(7);
    double worst = 0;
    for (int i = 0; i < 300; ++i) worst = std::max(worst, random_layer_difference(rng, rows_of(l)));
    MESSAGE(std::string(resnet8::float_level_name(l)), ": max |direct - at::conv2d| / (1 + max |out|) ", worst);
    CHECK(worst <= 1e-5);  // sums of up to 640 products of N(0, 1) values, in another order: float rounding only
  }
}

TEST_CASE("float kernel names: auto is the best this CPU runs; unknown names are refused, naming what it runs") {
  CHECK(resnet8::parse_float_level("auto", "kernels") == resnet8::best_float_level());
  CHECK(resnet8::parse_float_level("portable", "kernels") == FloatLevel::kPortable);
  const std::string message = resnet8::testing::error_of([] { resnet8::parse_float_level("avx512_vnni", "k"); });
  CHECK(message.find("unknown float kernels") != std::string::npos);
  CHECK(message.find("portable") != std::string::npos);
}

TEST_SUITE("e2e") {
  TEST_CASE("the direct float network at every level equals FoldedResNet8 on 1,000 test images, split or not") {
    using namespace resnet8;
    const char* data = std::getenv("RESNET8_DATA_DIR");
    const char* model = std::getenv("RESNET8_FP32_MODEL");
    REQUIRE_MESSAGE(data != nullptr, "RESNET8_DATA_DIR is not set (ctest sets it)");
    REQUIRE_MESSAGE(model != nullptr, "RESNET8_FP32_MODEL is not set (ctest sets it)");
    const FoldedResNet8 folded = fold(load_resnet8(model));
    const cifar10::Dataset test = cifar10::read_split(data, cifar10::Split::kTest);
    const at::Tensor x = cifar10::to_model_input(test.images.slice(0, 0, 1000)).contiguous();
    const at::Tensor expected = folded.forward(x);
    SplitWorker worker(0);
    for (FloatLevel l : levels_here()) {
      INFO(float_level_name(l));
      const DirectFloatNet net(folded, l);
      REQUIRE(net.input_floats() == 32 * 32 * 3);
      REQUIRE(net.output_floats() == 10);
      std::vector<float> arena, one(10), split(10);
      double worst = 0;
      int64_t same_class = 0, split_differs = 0;
      for (int64_t i = 0; i < x.size(0); ++i) {
        net.run(x.data_ptr<float>() + i * net.input_floats(), one.data(), arena);
        net.run(x.data_ptr<float>() + i * net.input_floats(), split.data(), arena, &worker);
        split_differs += std::memcmp(one.data(), split.data(), sizeof(float) * 10) != 0;
        const at::Tensor got = torch::from_blob(one.data(), {10});
        worst = std::max(worst, (got - expected[i]).abs().max().item<double>());
        same_class += got.argmax().item<int64_t>() == expected[i].argmax().item<int64_t>();
      }
      MESSAGE(std::string(float_level_name(l)), ": max |direct - FoldedResNet8| ", worst, " on 1000 images");
      CHECK(worst <= 1e-5);
      CHECK(same_class == 1000);
      CHECK(split_differs == 0);  // two cores compute the same rows the same way
    }
  }
}
