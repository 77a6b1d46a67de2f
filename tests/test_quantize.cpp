#include "testing.h"

#include <resnet8/calibration.h>
#include <resnet8/engine.h>
#include <resnet8/observer.h>
#include <resnet8/quantize.h>

#include <ATen/core/dispatch/Dispatcher.h>

using resnet8::testing::error_of;

namespace {

c10::IValue call_op(const char* name, const char* overload, torch::jit::Stack stack) {
  c10::Dispatcher::singleton().findSchemaOrThrow(name, overload).callBoxed(&stack);
  return stack.at(0);
}

// The int8 conv resnet8 writes (per-channel symmetric weights, optionally with the stride-2 'same'
// padding folded into a 4x4 kernel) against the float conv on the same dequantized values.
void check_conv_within_one_lsb(int64_t stride, bool fold_padding, bool per_channel) {
  resnet8::set_engine(resnet8::default_engine());
  torch::manual_seed(7);
  const auto w = torch::randn({32, 16, 3, 3}) * 0.1;
  const auto bias = torch::randn({32}) * 0.5;
  const auto qx = torch::quantize_per_tensor(torch::rand({2, 16, 16, 16}) * 10, 0.05, 0, torch::kQUInt8)
                      .contiguous(torch::MemoryFormat::ChannelsLast);

  torch::Tensor scales;
  const auto w8 = resnet8::quantize_weight_int8(w, per_channel, scales);
  const auto wd = w8.to(torch::kFloat) * (per_channel ? scales.view({-1, 1, 1, 1}) : scales);
  const auto xd = qx.dequantize();
  const auto reference = fold_padding ? torch::conv2d(torch::constant_pad_nd(xd, {0, 1, 0, 1}), wd, bias, stride)
                                      : torch::conv2d(xd, wd, bias, stride, 1);
  const auto out = resnet8::affine_qparams(reference.min().item<double>(), reference.max().item<double>(), 0, 255);
  const auto expected = torch::quantize_per_tensor(reference, out.scale, out.zero_point, torch::kQUInt8).int_repr();

  const auto w_kernel = fold_padding ? torch::constant_pad_nd(w8, {1, 0, 1, 0}) : w8;
  const auto qw = per_channel ? torch::_make_per_channel_quantized_tensor(w_kernel, scales.to(torch::kDouble),
                                                                          torch::zeros({32}, torch::kLong), 0)
                              : torch::_make_per_tensor_quantized_tensor(w_kernel, scales.item<double>(), 0);
  const auto packed = call_op("quantized::conv2d_prepack", "",
                              {qw, bias, c10::List<int64_t>({stride, stride}), c10::List<int64_t>({1, 1}),
                               c10::List<int64_t>({1, 1}), int64_t{1}});
  const auto y = call_op("quantized::conv2d", "new", {qx, packed, out.scale, out.zero_point}).toTensor();

  REQUIRE((y.sizes() == expected.sizes()));
  const int max_lsb = (y.int_repr().to(torch::kInt) - expected.to(torch::kInt)).abs().max().item<int>();
  INFO("max difference in LSB: ", max_lsb);
  CHECK(max_lsb <= 1);
}

}  // namespace

TEST_CASE("quantized 3x3 stride-1 conv is within 1 LSB of the float reference") {
  check_conv_within_one_lsb(1, false, true);
  check_conv_within_one_lsb(1, false, false);
}

TEST_CASE("quantized stride-2 conv with the 'same' padding folded into a 4x4 kernel is within 1 LSB") {
  check_conv_within_one_lsb(2, true, true);
}

TEST_CASE("symmetric int8 weights use [-127, 127] with max|w| / 127 per output channel") {
  const auto w = torch::tensor({1.0f, -0.5f, 0.25f, 0.0f, -2.0f, 0.5f, 1.0f, 0.0f}).view({2, 4, 1, 1});
  torch::Tensor scales;
  const auto q = resnet8::quantize_weight_int8(w, true, scales);
  CHECK((q.scalar_type() == torch::kChar));
  CHECK(scales[0].item<float>() == doctest::Approx(1.0 / 127));
  CHECK(scales[1].item<float>() == doctest::Approx(2.0 / 127));
  CHECK(torch::equal(q.view({-1}), torch::tensor({127, -64, 32, 0, -127, 32, 64, 0}, torch::kChar)));
  const auto qt = resnet8::quantize_weight_int8(w, false, scales);
  CHECK(scales.numel() == 1);
  CHECK(torch::equal(qt.view({-1}), torch::tensor({64, -32, 16, 0, -127, 32, 64, 0}, torch::kChar)));
}

TEST_CASE("affine quantization parameters") {
  auto q = resnet8::affine_qparams(0.0, 2.55, 0, 255);
  CHECK(q.scale == doctest::Approx(0.01));
  CHECK(q.zero_point == 0);  // a ReLU output keeps zero point 0
  q = resnet8::affine_qparams(-1.0, 1.0, 0, 255);
  CHECK(q.scale == doctest::Approx(2.0 / 255));
  CHECK(q.zero_point == 128);
  q = resnet8::affine_qparams(0.5, 1.27, 0, 127);  // widened to include 0, 7-bit range
  CHECK(q.scale == doctest::Approx(0.01));
  CHECK(q.zero_point == 0);
  q = resnet8::affine_qparams(-2.55, -1.0, 0, 255);
  CHECK(q.zero_point == 255);
}

TEST_CASE("observers: minmax keeps outliers, percentile and mse clip them") {
  torch::manual_seed(3);
  resnet8::RangeObserver obs;
  auto x = torch::cat({torch::rand({200000}), torch::zeros({50000}), torch::full({5}, 100.0f)});
  for (const auto& part : x.chunk(4)) obs.observe_minmax(part);
  for (const auto& part : x.chunk(4)) obs.observe_histogram(part);
  CHECK(obs.range(resnet8::ObserverKind::kMinMax, 256).second == doctest::Approx(100.0));
  const auto pct = obs.range(resnet8::ObserverKind::kPercentile, 256);
  CHECK(pct.first == 0.0);
  CHECK(pct.second < 1.2);
  CHECK(pct.second > 0.9);
  const auto mse = obs.range(resnet8::ObserverKind::kMse, 256);
  CHECK(mse.second < 100.0);
  CHECK(resnet8::parse_observer("mse") == resnet8::ObserverKind::kMse);
  CHECK(error_of([] { resnet8::parse_observer("kl"); }).find("expected minmax, percentile or mse") != std::string::npos);
}

TEST_CASE("calibration sample: stratified, sorted, reproducible, seed-dependent") {
  std::vector<int64_t> labels;
  for (int i = 0; i < 200; ++i) labels.push_back(i % 10);  // 20 images per class
  const auto l = torch::tensor(labels, torch::kLong);
  const auto a = resnet8::select_calibration(l, 5, 0);
  REQUIRE(a.size() == 50);
  CHECK(std::is_sorted(a.begin(), a.end()));
  std::array<int, 10> per_class{};
  for (int64_t i : a) per_class[labels[i]]++;
  for (int c = 0; c < 10; ++c) CHECK(per_class[c] == 5);
  CHECK(resnet8::select_calibration(l, 5, 0) == a);
  CHECK(resnet8::select_calibration(l, 5, 1) != a);
  CHECK(resnet8::select_calibration(l, 20, 0).size() == 200);
  CHECK(error_of([&] { resnet8::select_calibration(l, 21, 0); }).find("class 0 (airplane) has only 20") !=
        std::string::npos);
}

TEST_CASE("engines: the default is available and an unknown one is named with the choices") {
  const auto engines = resnet8::available_engines();
  REQUIRE_FALSE(engines.empty());
  CHECK(std::find(engines.begin(), engines.end(), resnet8::default_engine()) != engines.end());
  resnet8::set_engine(resnet8::default_engine());
  CHECK(resnet8::current_engine() == resnet8::default_engine());
  CHECK(error_of([] { resnet8::set_engine("tpu"); }).find("quantized engine 'tpu' is not available") !=
        std::string::npos);
}
