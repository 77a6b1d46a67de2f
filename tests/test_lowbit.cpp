// The low-bit stages alone: bit packing, cross-layer equalization, the layer statistics, AdaRound and
// bias correction on synthetic layers, and the refine stage on a random ResNet8 (no data files).
#include "testing.h"

#include <resnet8/engine/engine.h>
#include <resnet8/formats/bit_pack.h>
#include <resnet8/formats/int8_torchscript.h>
#include <resnet8/model/folded.h>
#include <resnet8/model/model.h>
#include <resnet8/quant/activation_ranges.h>
#include <resnet8/quant/adaround.h>
#include <resnet8/quant/bias_correction.h>
#include <resnet8/quant/equalize.h>
#include <resnet8/quant/layer_statistics.h>
#include <resnet8/quant/planner.h>
#include <resnet8/quant/refine.h>
#include <resnet8/support/error.h>

#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/script.h>

#include <map>

using resnet8::testing::error_of;
using resnet8::testing::option_of;

namespace {

resnet8::FoldedResNet8 random_network(uint64_t seed) {
  torch::manual_seed(seed);
  resnet8::ResNet8 net;
  net->eval();
  return resnet8::fold(net);
}

resnet8::cifar10::Dataset random_images(int64_t n) {
  return {torch::randint(0, 256, {n, 32, 32, 3}, torch::kByte), torch::arange(n, torch::kLong) % 10};
}

// A synthetic layer: rows x [n, k] of a ReLU-like input, x~ = x plus uniform noise of one input step (the
// upstream quantization), weights w [out, k], their per-channel `bits`-bit scales.
struct SyntheticLayer {
  at::Tensor x, xq, w, scales;
  resnet8::LayerStatistics stats;
  SyntheticLayer(int64_t n, int64_t k, int64_t out, int bits, double offset = 0) {
    torch::manual_seed(3);
    x = torch::relu(torch::randn({n, k}));
    xq = x + (torch::rand({n, k}) - 0.5) * 0.05 + offset;
    w = torch::randn({out, k}) * 0.2;
    resnet8::quantize_weight(w, bits, true, scales);
    resnet8::accumulate(stats, xq, x);
  }
  // The error computed on the rows themselves: mean over rows of |x~ wq^T - x w^T|^2 (summed over channels).
  double direct_error(const at::Tensor& wq) const {
    return (xq.to(torch::kDouble).mm(wq.to(torch::kDouble).t()) - x.to(torch::kDouble).mm(w.to(torch::kDouble).t()))
        .pow(2)
        .sum(1)
        .mean()
        .item<double>();
  }
};

c10::IValue call_op(const char* name, torch::jit::Stack stack) {
  c10::Dispatcher::singleton().findSchemaOrThrow(name, "").callBoxed(&stack);
  return stack.at(0);
}

std::string attr_name(std::string s) {
  for (char& c : s) c = c == '.' ? '_' : c;
  return s;
}

}  // namespace

TEST_CASE("bit packing round-trips every bit-width 2..8; 4-bit weights are two per byte, low nibble first") {
  torch::manual_seed(1);
  for (int bits = 2; bits <= 8; ++bits) {
    INFO(bits, " bits");
    const int32_t qmax = (1 << (bits - 1)) - 1;
    const auto t = torch::randint(-qmax, qmax + 1, {1001}, torch::kInt);
    std::vector<int32_t> values(t.data_ptr<int32_t>(), t.data_ptr<int32_t>() + t.numel());
    values[0] = -qmax, values[1] = qmax;  // both ends
    const auto packed = resnet8::pack_bits(values, bits);
    CHECK(packed.size() == (1001 * static_cast<size_t>(bits) + 7) / 8);
    CHECK(resnet8::unpack_bits(packed, bits, values.size()) == values);
    CHECK_THROWS_AS(resnet8::pack_bits({qmax + 1}, bits), resnet8::Error);
    CHECK_THROWS_AS(resnet8::unpack_bits(packed, bits, values.size() + 8), resnet8::Error);
  }
  CHECK(resnet8::pack_bits({-7, 7, 0}, 4) == std::vector<uint8_t>{0xF1, 0x08});  // 1 | 15 << 4, then 8
  CHECK(resnet8::pack_bits({-1, 1, 0, 1}, 2) == std::vector<uint8_t>{0xED});     // 1 | 3 << 2 | 2 << 4 | 3 << 6
  CHECK_THROWS_AS(resnet8::pack_bits({0}, 9), resnet8::Error);
  CHECK(error_of([] { resnet8::unpack_bits({0x00}, 4, 2); }).find("unused code 0") != std::string::npos);
}

TEST_CASE("bit runs: each run at its own width, one after another in the stream; one run is the plain layout") {
  const std::vector<resnet8::BitRun> runs = {{3, 7}, {5, 4}, {2, 7}};
  const std::vector<int32_t> values = {-63, 63, 1, -7, 7, 0, 3, -2, 40, -41};
  const auto packed = resnet8::pack_bits(values, runs);
  CHECK(packed.size() == (3 * 7 + 5 * 4 + 2 * 7 + 7) / 8);
  CHECK(packed.size() == resnet8::packed_bytes(runs));
  CHECK(resnet8::unpack_bits(packed, runs) == values);
  // The first value's 7 bits: -63 + 64 = 1; the fourth starts at bit 21 as a 4-bit -7 + 8 = 1.
  CHECK((packed[0] & 0x7F) == 1);
  CHECK(((packed[2] >> 5) | ((packed[3] & 0x01) << 3)) == 1);
  CHECK(resnet8::pack_bits(values, {{values.size(), 7}}) == resnet8::pack_bits(values, 7));
  CHECK_THROWS_AS(resnet8::pack_bits({8, 0}, {{1, 4}, {1, 7}}), resnet8::Error);     // 8 is not 4-bit
  CHECK_THROWS_AS(resnet8::pack_bits({1, 2, 3}, {{1, 4}, {1, 7}}), resnet8::Error);  // 3 values, runs of 2
  CHECK_THROWS_AS(resnet8::unpack_bits(packed, {{3, 7}, {5, 4}}), resnet8::Error);   // too many bytes
}

// The integers each layer's prepacked weights hold after the module's __setstate__ unpacked them.
std::vector<int32_t> prepacked_integers(const torch::jit::Module& module, const resnet8::LayerPlan& l) {
  const auto packed = module.attr(attr_name(l.name) + "_packed");
  const auto unpacked =
      call_op(l.kind == resnet8::LayerKind::kConv ? "quantized::conv2d_unpack" : "quantized::linear_unpack", {packed})
          .toTensor();  // the first of (weight, bias)
  at::Tensor q = unpacked.int_repr().to(torch::kInt);
  if (q.dim() == 4 && q.size(2) == 4) q = q.slice(2, 1).slice(3, 1);  // the 4x4 kernel of a stride-2 conv
  const auto c = q.contiguous();
  return std::vector<int32_t>(c.data_ptr<int32_t>(), c.data_ptr<int32_t>() + c.numel());
}

TEST_CASE("int8 files hold bit-packed weights that their __setstate__ unpacks to the plan's integers, at 2..8 bits") {
  const auto folded = random_network(5);
  const auto calib = random_images(20);
  // qnnpack computes in int32 everywhere, so it can build the 8-bit case on any CPU; the layout is the same.
  resnet8::set_engine("qnnpack");
  const auto ranges = resnet8::calibrate(folded, calib, {resnet8::ObserverKind::kMinMax, 500, nullptr});
  size_t previous_bytes = 0;
  for (int bits = 8; bits >= 2; --bits) {
    INFO(bits, " bits");
    resnet8::PlanOptions o;
    o.weight_bits = bits;
    const auto plan = resnet8::make_plan(folded, ranges, o);
    const auto module = resnet8::int8_module(plan, resnet8::current_engine(), "{}");
    const size_t bytes = static_cast<size_t>(module->attr("qweights").toTensor().numel());
    size_t count = 0;
    for (const auto& l : plan.layers) count += l.weight.size();
    CHECK(bytes == resnet8::packed_bytes(count, bits));
    if (previous_bytes) CHECK(bytes < previous_bytes);
    previous_bytes = bytes;
    for (const auto& l : plan.layers) {
      INFO(l.name);
      CHECK(prepacked_integers(*module, l) == l.weight);
    }
  }
}

TEST_CASE("a plan with 7-bit first and last layers and 4-bit others: each layer packed and unpacked at its width") {
  const auto folded = random_network(5);
  resnet8::set_engine("qnnpack");
  const auto ranges = resnet8::calibrate(folded, random_images(20), {resnet8::ObserverKind::kMinMax, 500, nullptr});
  resnet8::PlanOptions o;
  o.weight_bits = 4;
  o.layer_weight_bits = {{"stem.conv", 7}, {"fc", 7}};
  const auto plan = resnet8::make_plan(folded, ranges, o);
  const auto module = resnet8::int8_module(plan, resnet8::current_engine(), "{}");
  size_t wide = 0, narrow = 0;
  for (const auto& l : plan.layers) {
    INFO(l.name);
    const bool end = l.name == "stem.conv" || l.name == "fc";
    CHECK(l.weight_bits == (end ? 7 : 4));
    const int32_t largest = *std::max_element(l.weight.begin(), l.weight.end());
    CHECK(largest == (end ? 63 : 7));  // max|w| per channel maps to qmax
    (end ? wide : narrow) += l.weight.size();
    CHECK(prepacked_integers(*module, l) == l.weight);
  }
  CHECK(static_cast<size_t>(module->attr("qweights").toTensor().numel()) == (7 * wide + 4 * narrow + 7) / 8);
  CHECK(plan.widest_weight_bits() == 7);
  CHECK(resnet8::declared_scheme(plan).weight_bits == 7);  // the saturation guard judges the widest
  const auto plan_with = [&](const std::map<std::string, int>& widths) {
    o.layer_weight_bits = widths;
    resnet8::check_int8_plan(resnet8::make_plan(folded, ranges, o));
  };
  CHECK(option_of([&] { plan_with({{"stem.cnv", 7}}); }) == "layer_weight_bits");  // no such layer
  CHECK(option_of([&] { plan_with({{"fc", 9}}); }) == "layer_weight_bits");        // int8 files take 2..8
  CHECK_NOTHROW(plan_with({{"fc", 8}}));
}

TEST_CASE("cross-layer equalization leaves the network's function unchanged and evens out the channel ranges") {
  auto folded = random_network(7);
  // Spread conv1's output channels over four decades and undo it in conv2: the same function, badly scaled.
  const std::vector<std::string> stacks = {"stack1", "stack2", "stack3"};
  for (const auto& s : stacks) {
    auto& conv1 = folded.conv(s + ".conv1");
    auto& conv2 = folded.conv(s + ".conv2");
    const int64_t c = conv1.weight.size(0);
    const auto k = torch::pow(10.0, torch::linspace(-2, 2, c));
    conv1.weight = (conv1.weight * k.view({-1, 1, 1, 1})).contiguous(torch::MemoryFormat::ChannelsLast);
    conv1.bias = conv1.bias * k;
    conv2.weight = (conv2.weight / k.view({1, -1, 1, 1})).contiguous(torch::MemoryFormat::ChannelsLast);
  }
  // The graph's equalizable pairs are exactly each stack's conv1 -> conv2.
  const auto expected_pairs = std::vector<std::pair<std::string, std::string>>{
      {"stack1.conv1", "stack1.conv2"}, {"stack2.conv1", "stack2.conv2"}, {"stack3.conv1", "stack3.conv2"}};
  CHECK(resnet8::equalizable_pairs(folded.graph) == expected_pairs);
  std::vector<resnet8::EqualizedPair> pairs;
  const auto equalized = resnet8::equalize(folded, &pairs);
  REQUIRE(pairs.size() == 3);
  CHECK(pairs[1].first == "stack2.conv1");
  CHECK(pairs[1].second == "stack2.conv2");
  const auto x = resnet8::cifar10::to_model_input(random_images(8).images);
  torch::NoGradGuard no_grad;
  const double diff = (equalized.forward(x) - folded.forward(x)).abs().max().item<double>();
  MESSAGE("max |equalized - original| ", diff);
  CHECK(diff <= 1e-5);
  for (const auto& s : stacks) {
    INFO(s);
    const auto& conv1_before = folded.conv(s + ".conv1");
    const auto& conv2_before = folded.conv(s + ".conv2");
    const auto& conv1_after = equalized.conv(s + ".conv1");
    const auto& conv2_after = equalized.conv(s + ".conv2");
    const double spread_before = resnet8::channel_range_spread(conv2_before.weight, 1);
    const double spread_after = resnet8::channel_range_spread(conv2_after.weight, 1);
    MESSAGE(s, ".conv2 input-channel range spread ", spread_before, " -> ", spread_after);
    CHECK(spread_after < spread_before / 100);
    CHECK(resnet8::channel_range_spread(conv1_after.weight, 0) <
          resnet8::channel_range_spread(conv1_before.weight, 0) / 100);
    // Equalized: channel i spans the same range in conv1's output and in conv2's input.
    const auto r1 = conv1_after.weight.abs().amax({1, 2, 3});
    const auto r2 = conv2_after.weight.abs().amax({0, 2, 3});
    CHECK(torch::allclose(r1, r2, 1e-4, 0));
  }
  CHECK(folded.conv("stack1.conv1").weight.data_ptr() !=
        equalized.conv("stack1.conv1").weight.data_ptr());  // a new network
}

TEST_CASE("layer statistics: the reconstruction error from second moments equals the error on the rows") {
  const SyntheticLayer l(4000, 18, 6, 4);
  const auto nearest = torch::round(l.w / l.scales.view({-1, 1})).clamp(-7, 7) * l.scales.view({-1, 1});
  CHECK(l.stats.rows == 4000);
  const double from_stats = resnet8::reconstruction_error(l.w, nearest, l.stats);
  const double direct = l.direct_error(nearest);
  CHECK(from_stats == doctest::Approx(direct).epsilon(1e-6));
  // In batches: the same moments.
  resnet8::LayerStatistics batched;
  for (int64_t b = 0; b < 4000; b += 1500)
    resnet8::accumulate(batched, l.xq.slice(0, b, b + 1500), l.x.slice(0, b, b + 1500));
  CHECK(torch::allclose(batched.gram, l.stats.gram, 1e-6, 1e-9));
  CHECK(torch::allclose(batched.mean_float, l.x.to(torch::kDouble).mean(0), 1e-9, 1e-9));
  CHECK(resnet8::reconstruction_error(l.w, nearest, batched) == doctest::Approx(direct).epsilon(1e-6));
}

TEST_CASE("AdaRound on a synthetic layer: lower output error than round-to-nearest, hard 0/1 rounding, deterministic") {
  const SyntheticLayer l(4000, 36, 8, 3);
  resnet8::AdaRoundOptions o;
  o.iterations = 10000;
  const auto a = resnet8::adaround(l.w, l.scales, 3, l.stats, o);
  const auto column = l.scales.view({-1, 1});
  const auto learned = a.integers.to(torch::kFloat) * column;
  const auto nearest = torch::round(l.w / column).clamp(-3, 3) * column;
  MESSAGE("3-bit reconstruction error: nearest ", l.direct_error(nearest), ", AdaRound ", l.direct_error(learned), " (",
          a.changed, " of ", l.w.numel(), " weights rounded the other way)");
  CHECK(l.direct_error(learned) < 0.8 * l.direct_error(nearest));
  CHECK(a.error_learned == doctest::Approx(l.direct_error(learned)).epsilon(1e-5));
  CHECK(a.error_nearest == doctest::Approx(l.direct_error(nearest)).epsilon(1e-5));
  // The annealed regulariser leaves few variables short of exactly 0 or 1 (where the output error's curvature
  // outweighs it); the final rounding is hard: every weight is floor(w / scale) + 0 or 1, clamped.
  MESSAGE(a.soft, " of ", l.w.numel(), " rounding variables were not at exactly 0 or 1 when the optimisation ended");
  CHECK(a.soft < l.w.numel() / 5);
  CHECK(a.changed > 0);
  const auto up = a.integers.to(torch::kFloat) - torch::floor(l.w / column);
  CHECK((up.eq(0).logical_or(up.eq(1)).logical_or(a.integers.abs().eq(3))).all().item<bool>());
  CHECK(a.integers.abs().max().item<int>() <= 3);
  const auto again = resnet8::adaround(l.w, l.scales, 3, l.stats, o);
  CHECK(torch::equal(again.integers, a.integers));
  o.iterations = 0;
  CHECK_THROWS_AS(resnet8::adaround(l.w, l.scales, 3, l.stats, o), resnet8::OptionError);
}

TEST_CASE("bias correction removes a planted mean error") {
  // x~ = x + 0.3 on every input: the quantized layer's output is shifted by 0.3 * sum_k wq[c, k] per channel.
  const SyntheticLayer l(4000, 18, 6, 8, 0.3);
  const auto wq = torch::round(l.w / l.scales.view({-1, 1})) * l.scales.view({-1, 1});
  const auto bias = torch::randn({6});
  const auto shift = resnet8::mean_output_shift(l.w, wq, l.stats);
  auto mean_error = [&](const at::Tensor& b) {
    return (l.xq.mm(wq.t()) + b - (l.x.mm(l.w.t()) + bias)).mean(0).abs().max().item<double>();
  };
  MESSAGE("planted mean output error ", mean_error(bias), ", after correction ",
          mean_error(bias - shift.to(torch::kFloat)));
  CHECK(mean_error(bias) > 0.1);
  CHECK(mean_error(bias - shift.to(torch::kFloat)) < 1e-4);
  CHECK(torch::allclose(shift, 0.3 * wq.to(torch::kDouble).sum(1), 1e-2, 1e-3));  // the planted value, up to noise
}

TEST_CASE("refine: AdaRound and bias correction, layer by layer, lower every layer's error on a random ResNet8") {
  const auto folded = random_network(9);
  const auto calib = random_images(40);
  const auto ranges = resnet8::calibrate(folded, calib, {resnet8::ObserverKind::kMinMax, 500, nullptr});
  resnet8::PlanOptions o;
  o.weight_bits = 3;
  o.float_layers = {"stack3.shortcut"};
  auto plan = resnet8::make_plan(folded, ranges, o);
  const auto nearest = plan;
  resnet8::RefineOptions r;
  r.rounding = resnet8::Rounding::kAdaRound;
  r.bias_correction = true;
  r.adaround.iterations = 300;
  std::map<std::string, std::pair<int64_t, int64_t>> progress;  // per stage, the last (done, total)
  r.on_progress = [&](const std::string& stage, int64_t done, int64_t total) { progress[stage] = {done, total}; };
  const auto report = resnet8::refine(folded, calib, plan, r);
  CHECK(plan.rounding == "adaround");
  CHECK(plan.bias_corrected);
  CHECK(report.layers.size() == plan.layers.size() - 1);  // the fp32 layer is left alone
  // AdaRound reports its iterations, one stage per refined layer, each run to the end.
  CHECK(progress.size() == report.layers.size());
  for (const auto& [stage, last] : progress) {
    INFO(stage);
    CHECK(stage.find("AdaRound + bias correction, layer ") == 0);
    CHECK(last == std::pair<int64_t, int64_t>{300, 300});
  }
  CHECK(progress.count("AdaRound + bias correction, layer 1/10 (stem.conv)") == 1);
  CHECK(plan.layer("stack3.shortcut").float_weight == nearest.layer("stack3.shortcut").float_weight);
  for (const auto& l : report.layers) {
    INFO(l.layer);
    CHECK(l.error < l.error_nearest);
    CHECK(l.rounding_changed > 0);
    const auto& q = plan.layer(l.layer);
    CHECK(*std::max_element(q.weight.begin(), q.weight.end()) <= 3);
    CHECK(*std::min_element(q.weight.begin(), q.weight.end()) >= -3);
  }
  // The first layer's input is exact (raw pixels): its corrected bias is the fp32 bias minus the shift the
  // learned weights cause on the calibration images, in int32 steps.
  const auto& stem = plan.layer("stem.conv");
  const auto stats = resnet8::layer_statistics(folded, plan, "stem.conv", calib);
  const auto column = torch::tensor(stem.weight_scales).view({-1, 1});
  const auto wq = torch::tensor(stem.weight).to(torch::kFloat).view({16, -1}) * column;
  const auto f = resnet8::float_layer(folded, "stem.conv");
  const auto expected = f.bias.to(torch::kDouble) - resnet8::mean_output_shift(f.weight.reshape({16, -1}), wq, stats);
  const auto steps = column.view({-1}).to(torch::kDouble) * plan.activation("input").qparams.scale;
  CHECK(((torch::tensor(stem.bias).to(torch::kDouble) - expected).abs() <= steps / 2 + 1e-6).all().item<bool>());
}
