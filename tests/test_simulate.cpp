// The simulated writer (simulate.h) and the affine quantize-dequantize it applies.
#include "testing.h"

#include <resnet8/model/folded.h>
#include <resnet8/model/model.h>
#include <resnet8/quant/activation_ranges.h>
#include <resnet8/quant/planner.h>
#include <resnet8/quant/simulate.h>
#include <resnet8/support/error.h>

TEST_CASE("fake_quant_affine: scale, zero point, rounding half to even, clamping") {
  const auto x = torch::tensor({-1.0f, 0.0f, 0.26f, 0.74f, 2.0f, 5.0f, 0.25f, 0.75f, -3.0f});
  // scale 0.5, zero point 2, levels 0..7: representable values are -1.0 .. 2.5 in steps of 0.5.
  const auto y = resnet8::fake_quant_affine(x, 0.5, 2, 0, 7);
  CHECK(torch::allclose(y, torch::tensor({-1.0f, 0.0f, 0.5f, 0.5f, 2.0f, 2.5f, 0.0f, 1.0f, -1.0f})));
}

TEST_CASE("plan_weight: the plan's integers times their scales, per output channel or per tensor") {
  resnet8::LayerPlan l;
  l.weight_shape = {2, 2, 2, 1};
  const auto w = torch::tensor({0.3f, -0.15f, 0.1f, 0.0f, -6.0f, 1.0f, 2.5f, 4.0f}).view({2, 2, 2, 1});
  torch::Tensor scales;
  // 3 bits: integers -3..3. Channel 0: scale 0.1; channel 1: scale 2.
  auto q = resnet8::quantize_weight(w, 3, true, scales);
  l.weight.assign(q.data_ptr<int32_t>(), q.data_ptr<int32_t>() + q.numel());
  l.weight_scales.assign(scales.data_ptr<float>(), scales.data_ptr<float>() + scales.numel());
  CHECK(torch::allclose(resnet8::plan_weight(l).view({-1}),
                        torch::tensor({0.3f, -0.2f, 0.1f, 0.0f, -6.0f, 0.0f, 2.0f, 4.0f})));
  // Per tensor: one scale, 6 / 3 = 2; channel 0 rounds to zero.
  q = resnet8::quantize_weight(w, 3, false, scales);
  l.weight.assign(q.data_ptr<int32_t>(), q.data_ptr<int32_t>() + q.numel());
  l.weight_scales.assign(scales.data_ptr<float>(), scales.data_ptr<float>() + scales.numel());
  CHECK(torch::allclose(resnet8::plan_weight(l).view({-1}),
                        torch::tensor({0.0f, 0.0f, 0.0f, 0.0f, -6.0f, 0.0f, 2.0f, 4.0f})));
  CHECK_THROWS_AS(resnet8::quantize_weight(w, 1, true, scales), resnet8::OptionError);
}

TEST_CASE("simulate: an all-fp32 plan is the float model, 16 bits is close to it, 3 bits is not") {
  torch::manual_seed(5);
  resnet8::ResNet8 net;
  net->eval();
  const auto folded = resnet8::fold(net);
  resnet8::cifar10::Dataset calib{torch::randint(0, 256, {40, 32, 32, 3}, torch::kByte),
                                  torch::arange(40, torch::kLong) % 10};
  const auto ranges = resnet8::calibrate(folded, calib, {resnet8::ObserverKind::kMinMax, 16, nullptr});
  torch::NoGradGuard no_grad;
  const auto x = resnet8::cifar10::to_model_input(calib.images.slice(0, 0, 8));
  const auto reference = folded.forward(x);

  resnet8::PlanOptions none;
  const auto layers = resnet8::layer_names(folded);
  none.float_layers = {layers.begin(), layers.end()};
  none.float_points = {ranges.points().begin(), ranges.points().end()};
  CHECK(torch::equal(resnet8::simulate(folded, resnet8::make_plan(folded, ranges, none)).forward(x), reference));

  resnet8::PlanOptions fine;
  fine.weight_bits = fine.activation_bits = 16;
  const auto fine_out = resnet8::simulate(folded, resnet8::make_plan(folded, ranges, fine)).forward(x);
  CHECK((fine_out - reference).abs().max().item<double>() < 1e-3);

  resnet8::PlanOptions coarse;
  coarse.weight_bits = coarse.activation_bits = 3;
  const auto coarse_out = resnet8::simulate(folded, resnet8::make_plan(folded, ranges, coarse)).forward(x);
  CHECK((coarse_out - reference).abs().max().item<double>() > 1e-3);
}
