#include "testing.h"

#include <resnet8/fake_quant.h>
#include <resnet8/folded.h>
#include <resnet8/model.h>

using resnet8::testing::error_of;

TEST_CASE("fake_quant_affine: scale, zero point, rounding half to even, clamping") {
  const auto x = torch::tensor({-1.0f, 0.0f, 0.26f, 0.74f, 2.0f, 5.0f, 0.25f, 0.75f, -3.0f});
  // scale 0.5, zero point 2, levels 0..7: representable values are -1.0 .. 2.5 in steps of 0.5.
  const auto y = resnet8::fake_quant_affine(x, 0.5, 2, 0, 7);
  CHECK(torch::allclose(y, torch::tensor({-1.0f, 0.0f, 0.5f, 0.5f, 2.0f, 2.5f, 0.0f, 1.0f, -1.0f})));
}

TEST_CASE("fake_quant_weight: symmetric, per output channel (dim 0) or per tensor") {
  const auto w = torch::tensor({0.3f, -0.15f, 0.1f, 0.0f, -6.0f, 1.0f, 2.5f, 4.0f}).view({2, 2, 2, 1});
  // 3 bits: integers -3..3. Channel 0: scale 0.1; channel 1: scale 2.
  const auto pc = resnet8::fake_quant_weight(w, 3, true).view({-1});
  CHECK(torch::allclose(pc, torch::tensor({0.3f, -0.2f, 0.1f, 0.0f, -6.0f, 0.0f, 2.0f, 4.0f})));
  // Per tensor: one scale, 6 / 3 = 2; channel 0 rounds to zero.
  const auto pt = resnet8::fake_quant_weight(w, 3, false).view({-1});
  CHECK(torch::allclose(pt, torch::tensor({0.0f, 0.0f, 0.0f, 0.0f, -6.0f, 0.0f, 2.0f, 4.0f})));
  // 8 bits: max |w| maps to 127 exactly.
  CHECK(resnet8::fake_quant_weight(w, 8, true).abs().amax({1, 2, 3}).allclose(torch::tensor({0.3f, 6.0f})));
  CHECK(error_of([&] { resnet8::fake_quant_weight(w, 1, true); }).find("2..16") != std::string::npos);
}

TEST_CASE("fake_quantize: all-fp32 is the float model, 16 bits is close to it, unknown layers refused") {
  torch::manual_seed(5);
  resnet8::ResNet8 net;
  net->eval();
  const auto folded = resnet8::fold(net);
  resnet8::cifar10::Dataset calib{torch::randint(0, 256, {40, 32, 32, 3}, torch::kByte),
                                  torch::arange(40, torch::kLong) % 10};
  const resnet8::ActivationRanges ranges(folded, calib, resnet8::ObserverKind::kMinMax);
  CHECK(ranges.qparams("input", 8).scale == doctest::Approx(1.0));
  CHECK(ranges.qparams("input", 4).scale == doctest::Approx(17.0));
  CHECK(ranges.qparams("stem", 8).zero_point == 0);  // a ReLU output

  torch::NoGradGuard no_grad;
  const auto x = resnet8::cifar10::to_model_input(calib.images.slice(0, 0, 8));
  const auto reference = folded.forward(x);

  resnet8::FakeQuantConfig none;
  const auto layers = resnet8::quantizable_layers(folded);
  none.float_layers = {layers.begin(), layers.end()};
  none.input_and_adds = false;
  CHECK(torch::equal(resnet8::fake_quantize(folded, ranges, none).forward(x), reference));

  resnet8::FakeQuantConfig fine;
  fine.weight_bits = fine.activation_bits = 16;
  CHECK((resnet8::fake_quantize(folded, ranges, fine).forward(x) - reference).abs().max().item<double>() < 1e-3);

  resnet8::FakeQuantConfig coarse;
  coarse.weight_bits = coarse.activation_bits = 3;
  CHECK((resnet8::fake_quantize(folded, ranges, coarse).forward(x) - reference).abs().max().item<double>() > 1e-3);

  resnet8::FakeQuantConfig bad;
  bad.float_layers = {"stack9.conv1"};
  CHECK(error_of([&] { resnet8::fake_quantize(folded, ranges, bad); }).find("unknown layer 'stack9.conv1'") !=
        std::string::npos);
}
