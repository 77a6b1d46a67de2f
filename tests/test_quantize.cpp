#include "testing.h"

#include <resnet8/data/calibration.h>
#include <resnet8/engine/engine.h>
#include <resnet8/engine/saturation.h>
#include <resnet8/pipeline/quantize.h>
#include <resnet8/quant/int8_scheme.h>
#include <resnet8/quant/observer.h>
#include <resnet8/quant/planner.h>
#include <resnet8/support/error.h>

#include <ATen/core/dispatch/Dispatcher.h>

#include <cstdlib>

using resnet8::testing::error_of;

namespace {

c10::IValue call_op(const char* name, const char* overload, torch::jit::Stack stack) {
  c10::Dispatcher::singleton().findSchemaOrThrow(name, overload).callBoxed(&stack);
  return stack.at(0);
}

// Max difference, in output LSB, between the int8 conv resnet8 writes (symmetric weights of the
// scheme's bits, optionally with the stride-2 'same' padding folded into a 4x4 kernel) on `engine`
// and the float conv on the same dequantized values. Inputs span the scheme's whole activation range.
int conv_lsb_error(const std::string& engine, const resnet8::Int8Scheme& scheme, int64_t stride, bool fold_padding,
                   bool per_channel) {
  resnet8::set_engine(engine);
  torch::manual_seed(7);
  const auto w = torch::randn({32, 16, 3, 3}) * 0.1;
  const auto bias = torch::randn({32}) * 0.5;
  const double in_scale = 0.05;
  const auto qx = torch::quantize_per_tensor(torch::rand({2, 16, 16, 16}) * (in_scale * scheme.activation_qmax()),
                                             in_scale, 0, torch::kQUInt8)
                      .contiguous(torch::MemoryFormat::ChannelsLast);

  torch::Tensor scales;
  const auto w8 = resnet8::quantize_weight(w, scheme.weight_bits, per_channel, scales).to(torch::kChar);
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
  return (y.int_repr().to(torch::kInt) - expected.to(torch::kInt)).abs().max().item<int>();
}

// The engines whose int8 kernels the project uses on x86 (qnnpack is a fallback).
std::vector<std::string> x86_engines() {
  std::vector<std::string> out;
  for (const auto& e : resnet8::available_engines()) {
    if (e == "x86" || e == "fbgemm" || e == "onednn") out.push_back(e);
  }
  REQUIRE_FALSE(out.empty());
  return out;
}

bool env_is(const char* name, const char* value) {
  const char* v = std::getenv(name);
  return v != nullptr && std::string(v) == value;
}

}  // namespace

TEST_CASE("the scheme resnet8 chooses here is within 1 LSB of the float reference on every x86 engine") {
  for (const auto& engine : x86_engines()) {
    const resnet8::Int8Scheme scheme = resnet8::resolve_scheme(resnet8::QuantizeOptions{}, engine);
    INFO("engine ", engine, ", ", scheme.describe());
    CHECK(conv_lsb_error(engine, scheme, 1, false, true) <= 1);   // 3x3 stride 1, per-channel
    CHECK(conv_lsb_error(engine, scheme, 1, false, false) <= 1);  // per-tensor
    CHECK(conv_lsb_error(engine, scheme, 2, true, true) <= 1);    // stride 2, padding folded into 4x4
  }
}

TEST_CASE(
    "8-bit weights with 8-bit activations are off by more than 1 LSB exactly where the probe says the kernels "
    "saturate") {
  for (const auto& engine : x86_engines()) {
    const bool saturates = resnet8::kernels_saturate_int16_pairs(engine);
    const int lsb = conv_lsb_error(engine, resnet8::Int8Scheme{8, 8}, 1, false, true);
    INFO("engine ", engine, ": probe says saturates = ", saturates, ", w8a8 conv off by ", lsb, " LSB");
    CHECK((lsb > 1) == saturates);
    CHECK(conv_lsb_error(engine, resnet8::Int8Scheme{8, 7}, 1, false, true) <= 1);  // 7-bit activations
    CHECK(conv_lsb_error(engine, resnet8::Int8Scheme{7, 8}, 1, false, true) <= 1);  // 7-bit weights
  }
}

TEST_CASE("the saturation probe agrees with the CPU's flags and with FBGEMM/oneDNN caps set for this process") {
  // ctest runs the unit tests twice: as they are, and with both libraries capped at AVX2 (the
  // kernels of a CPU without VNNI), so a VNNI machine checks both kinds of kernels.
  const bool capped = env_is("FBGEMM_ENABLE_INSTRUCTIONS", "AVX2") && env_is("ONEDNN_MAX_CPU_ISA", "AVX2");
  __builtin_cpu_init();
  const bool avx512_vnni = __builtin_cpu_supports("avx512vnni");
  const bool any_vnni = avx512_vnni || __builtin_cpu_supports("avxvnni");
  MESSAGE("CPU: avx512_vnni ", avx512_vnni, ", avx_vnni ", any_vnni && !avx512_vnni,
          "; kernels capped at AVX2: ", capped);
  for (const auto& engine : x86_engines()) {
    // fbgemm (and x86, which uses fbgemm or, with AVX-512 VNNI, onednn) need AVX-512 VNNI;
    // onednn also has AVX-VNNI kernels.
    const bool expected = capped || !(engine == "onednn" ? any_vnni : avx512_vnni);
    INFO("engine ", engine);
    CHECK(resnet8::kernels_saturate_int16_pairs(engine) == expected);
  }
}

TEST_CASE("a scheme that would saturate is refused, and the default is exact everywhere") {
  using resnet8::QuantizeOptions;
  for (const auto& engine : x86_engines()) {
    INFO("engine ", engine);
    const bool saturates = resnet8::kernels_saturate_int16_pairs(engine);
    const auto chosen = resnet8::resolve_scheme(QuantizeOptions{}, engine);
    CHECK(chosen.weight_bits == 7);
    CHECK(chosen.activation_bits == 8);
    CHECK(chosen.fits_int16_pairs());

    QuantizeOptions w8;
    w8.weight_bits = 8;
    CHECK(resnet8::resolve_scheme(w8, engine).reduce_range() == saturates);  // auto: 7-bit activations only if needed
    w8.activation_bits = 8;
    if (saturates) {
      CHECK(error_of([&] { resnet8::resolve_scheme(w8, engine); }).find("would silently saturate") !=
            std::string::npos);
      CHECK_THROWS_AS(resnet8::resolve_scheme(w8, engine), resnet8::OptionError);  // a usage error, by type
    } else {
      CHECK_FALSE(resnet8::resolve_scheme(w8, engine).reduce_range());
    }
    w8.activation_bits = 6;  // 2 x 63 x 127 fits int16: exact on every engine, as 6-bit files clamp
    CHECK(resnet8::resolve_scheme(w8, engine).fits_int16_pairs());

    QuantizeOptions w4;  // 8-bit end layers make a 4-bit plan as wide as 8-bit weights
    w4.weight_bits = 4;
    w4.end_bits = 8;
    CHECK(resnet8::resolve_scheme(w4, engine).weight_bits == 4);
    CHECK(resnet8::resolve_scheme(w4, engine).reduce_range() == saturates);
  }
  QuantizeOptions bad;
  bad.weight_bits = 9;
  CHECK(error_of([&] { resnet8::resolve_scheme(bad, resnet8::default_engine()); }).find("2..8") != std::string::npos);
  try {
    resnet8::resolve_scheme(bad, resnet8::default_engine());
    FAIL("9-bit weights accepted");
  } catch (const resnet8::OptionError& e) {
    CHECK(e.option() == "weight_bits");
  }
}

TEST_CASE("the first and last layers' bits: 7, or the weight bits if wider, unless set; 2..8") {
  resnet8::QuantizeOptions o;
  for (const int bits : {2, 4, 7}) {
    o.weight_bits = bits;
    CHECK(resnet8::resolved_end_bits(o) == 7);
  }
  o.weight_bits = 8;
  CHECK(resnet8::resolved_end_bits(o) == 8);
  o.end_bits = 4;
  CHECK(resnet8::resolved_end_bits(o) == 4);
  o.end_bits = 9;
  try {
    resnet8::resolved_end_bits(o);
    FAIL("9 end bits accepted");
  } catch (const resnet8::OptionError& e) {
    CHECK(e.option() == "end_bits");
  }
}

TEST_CASE("int16 pair limits: 2 x 255 x 63 and 2 x 127 x 127 fit, 2 x 255 x 127 does not") {
  CHECK(resnet8::Int8Scheme{7, 8}.fits_int16_pairs());
  CHECK(resnet8::Int8Scheme{8, 7}.fits_int16_pairs());
  CHECK_FALSE(resnet8::Int8Scheme{8, 8}.fits_int16_pairs());
  CHECK(resnet8::Int8Scheme{7, 8}.weight_qmax() == 63);
  CHECK(resnet8::Int8Scheme{4, 8}.weight_qmax() == 7);
}

TEST_CASE("symmetric weights use [-qmax, qmax] with max|w| / qmax per output channel") {
  const auto w = torch::tensor({1.0f, -0.5f, 0.25f, 0.0f, -2.0f, 0.5f, 1.0f, 0.0f}).view({2, 4, 1, 1});
  torch::Tensor scales;
  const auto q = resnet8::quantize_weight(w, 8, true, scales);
  CHECK((q.scalar_type() == torch::kInt));
  CHECK(scales[0].item<float>() == doctest::Approx(1.0 / 127));
  CHECK(scales[1].item<float>() == doctest::Approx(2.0 / 127));
  CHECK(torch::equal(q.view({-1}), torch::tensor({127, -64, 32, 0, -127, 32, 64, 0}, torch::kInt)));
  const auto qt = resnet8::quantize_weight(w, 8, false, scales);
  CHECK(scales.numel() == 1);
  CHECK(torch::equal(qt.view({-1}), torch::tensor({64, -32, 16, 0, -127, 32, 64, 0}, torch::kInt)));
  const auto q7 = resnet8::quantize_weight(w, 7, true, scales);  // 7 bits: [-63, 63]
  CHECK(scales[0].item<float>() == doctest::Approx(1.0 / 63));
  CHECK(scales[1].item<float>() == doctest::Approx(2.0 / 63));
  CHECK(q7.abs().amax({1, 2, 3}).equal(torch::tensor({63, 63}, torch::kInt)));
  const auto step = scales.view({2, 1, 1, 1});
  CHECK(((q7.to(torch::kFloat) * step - w).abs() - step / 2).max().item<float>() <= 1e-6f);  // nearest level
}

TEST_CASE("weight range mse: clips outliers when that lowers the weights' squared error, never widens the range") {
  torch::manual_seed(3);
  // Channel 0: Gaussian with one large outlier; channel 1: uniform (clipping cannot help much).
  auto w = torch::randn({2, 64, 3, 3});
  w[0][0][0][0] = 12.0;
  w[1] = torch::rand({64, 3, 3}) * 2 - 1;
  for (int bits : {4, 8}) {
    INFO("bits ", bits);
    torch::Tensor s_max, s_mse;
    const auto q_max = resnet8::quantize_weight(w, bits, true, s_max, resnet8::WeightRange::kMax);
    const auto q_mse = resnet8::quantize_weight(w, bits, true, s_mse, resnet8::WeightRange::kMse);
    auto err = [&](const torch::Tensor& q, const torch::Tensor& s) {
      return (q.to(torch::kFloat) * s.view({2, 1, 1, 1}) - w).pow(2).sum({1, 2, 3});
    };
    CHECK((s_mse <= s_max).all().item<bool>());
    CHECK((err(q_mse, s_mse) <= err(q_max, s_max) + 1e-6).all().item<bool>());
    // At 4 bits the outlier costs more in rounding error (step 12/7) than clipping it does; at 8 bits not.
    if (bits == 4) CHECK(s_mse[0].item<float>() < 0.5f * s_max[0].item<float>());
    const int64_t qmax = (int64_t{1} << (bits - 1)) - 1;
    CHECK(q_mse.abs().max().item<int64_t>() <= qmax);
  }
  CHECK(resnet8::parse_weight_range("mse") == resnet8::WeightRange::kMse);
  CHECK_THROWS_AS(resnet8::parse_weight_range("p99"), resnet8::OptionError);
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
  CHECK(error_of([] { resnet8::parse_observer("kl"); }).find("expected minmax, percentile or mse") !=
        std::string::npos);
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
