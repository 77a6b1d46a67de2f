// The quantization stages alone: calibrate -> plan -> writers (int8 module, JSON), on a random
// ResNet8 (no data files needed).
#include "testing.h"

#include <resnet8/engine/engine.h>
#include <resnet8/formats/int8_torchscript.h>
#include <resnet8/model/folded.h>
#include <resnet8/model/model.h>
#include <resnet8/pipeline/analysis.h>
#include <resnet8/pipeline/json.h>
#include <resnet8/quant/activation_ranges.h>
#include <resnet8/quant/planner.h>
#include <resnet8/quant/simulate.h>
#include <resnet8/support/error.h>

#include <torch/script.h>

namespace {

struct Fixture {
  resnet8::FoldedResNet8 folded;
  resnet8::cifar10::Dataset calib;
  Fixture() {
    torch::manual_seed(11);
    resnet8::ResNet8 net;
    net->eval();
    folded = resnet8::fold(net);
    calib = {torch::randint(0, 256, {60, 32, 32, 3}, torch::kByte), torch::arange(60, torch::kLong) % 10};
  }
};

using resnet8::testing::option_of;

}  // namespace

TEST_CASE("calibrate: points named after the layers that write them, in order; the batch size does not matter") {
  Fixture f;
  const auto a = resnet8::calibrate(f.folded, f.calib, {resnet8::ObserverKind::kPercentile, 7, nullptr});
  const auto b = resnet8::calibrate(f.folded, f.calib, {resnet8::ObserverKind::kPercentile, 500, nullptr});
  const std::vector<std::string> expected = {
      "input",        "stem.conv",       "stack1.conv1",    "stack1.conv2", "stack1.add",
      "stack2.conv1", "stack2.conv2",    "stack2.shortcut", "stack2.add",   "stack3.conv1",
      "stack3.conv2", "stack3.shortcut", "stack3.add",      "pool",         "fc"};
  CHECK(a.points() == expected);
  for (const auto& p : a.points()) {
    INFO(p);
    CHECK(a.observed(p).min() == b.observed(p).min());
    CHECK(a.observed(p).max() == b.observed(p).max());
    CHECK(a.range(p, 256) == b.range(p, 256));
  }
  CHECK(a.range("input", 256) == std::pair<double, double>{0.0, 255.0});
  CHECK(a.qparams("stem.conv", 8).zero_point == 0);  // a ReLU output
  CHECK_THROWS_AS(
      resnet8::calibrate(f.folded, {torch::zeros({0, 32, 32, 3}, torch::kByte), torch::zeros({0}, torch::kLong)}, {}),
      resnet8::Error);
  CHECK(option_of([&] {
          resnet8::calibrate(f.folded, f.calib, {resnet8::ObserverKind::kMinMax, 0, nullptr});
        }) == "batch_size");
}

TEST_CASE("make_plan: plain data per layer, N-bit integers in range, 'same' padding as pads, fp32 layers kept") {
  Fixture f;
  const auto ranges = resnet8::calibrate(f.folded, f.calib, {resnet8::ObserverKind::kMinMax, 500, nullptr});
  resnet8::PlanOptions o;
  o.weight_bits = 4;
  o.float_layers = {"stack2.conv1"};
  const auto plan = resnet8::make_plan(f.folded, ranges, o);
  CHECK(plan.layers.size() == 10);
  CHECK(plan.activations.size() == ranges.points().size());
  for (const auto& l : plan.layers) {
    INFO(l.name);
    int64_t numel = 1;
    for (auto d : l.weight_shape) numel *= d;
    CHECK(l.bias.size() == static_cast<size_t>(l.weight_shape[0]));
    if (l.kept_float) {
      CHECK(l.weight.empty());
      CHECK(l.float_weight.size() == static_cast<size_t>(numel));
      continue;
    }
    CHECK(l.weight.size() == static_cast<size_t>(numel));
    CHECK(l.weight_scales.size() == static_cast<size_t>(l.weight_shape[0]));
    CHECK(*std::max_element(l.weight.begin(), l.weight.end()) <= 7);
    CHECK(*std::min_element(l.weight.begin(), l.weight.end()) >= -7);
  }
  CHECK(plan.layer("stack2.conv1").kept_float);
  CHECK(plan.float_layers() == std::vector<std::string>{"stack2.conv1"});
  const auto& s2 = plan.layer("stack2.shortcut");
  CHECK(s2.stride == 2);
  CHECK((s2.pad_before == 0 && s2.pad_after == 0));
  const auto& c2 = plan.layer("stack3.conv1");  // 3x3 stride 2, TensorFlow 'same': 0 before, 1 after
  CHECK(c2.weight_shape == std::vector<int64_t>{64, 32, 3, 3});
  CHECK((c2.stride == 2 && c2.pad_before == 0 && c2.pad_after == 1));
  CHECK((plan.layer("stack1.conv1").pad_before == 1 && plan.layer("stack1.conv1").pad_after == 1));
  CHECK(plan.layer("fc").kind == resnet8::LayerKind::kLinear);
  CHECK(plan.layer("stack2.shortcut").input == "stack1.add");
  CHECK(plan.layer("stack2.conv2").input == "stack2.conv1");
  CHECK(plan.layer("fc").input == "pool");  // the pooled features, at their own activation point
  // Quantized layers hold their bias in int32 steps of input scale x weight scale (as integer kernels do).
  for (const auto& l : plan.layers) {
    if (l.kept_float) continue;
    INFO(l.name);
    const double in_scale = plan.activation(l.input).qparams.scale;
    for (size_t c = 0; c < l.bias.size(); ++c) {
      const double steps = double(l.bias[c]) / (in_scale * double(l.weight_scales[c]));
      CHECK(std::abs(steps - std::nearbyint(steps)) < 1e-3);
    }
  }

  resnet8::PlanOptions bad = o;
  bad.float_layers = {"stack9.conv1"};
  CHECK(option_of([&] { resnet8::make_plan(f.folded, ranges, bad); }) == "float_layers");
  bad = o;
  bad.float_points = {"nowhere"};
  CHECK(option_of([&] { resnet8::make_plan(f.folded, ranges, bad); }) == "float_points");
  bad = o;
  bad.activation_bits = 17;
  CHECK(option_of([&] { resnet8::make_plan(f.folded, ranges, bad); }) == "activation_bits");
}

TEST_CASE("the int8 writer and the simulated writer of one plan agree; plans int8 kernels cannot run are refused") {
  Fixture f;
  resnet8::set_engine(resnet8::default_engine());
  const auto ranges = resnet8::calibrate(f.folded, f.calib, {resnet8::ObserverKind::kMinMax, 500, nullptr});
  resnet8::PlanOptions o;  // 4-bit weights (far from fp32), 8-bit activations: exact on every engine
  o.weight_bits = 4;
  o.float_layers = {"stem.conv"};
  const auto plan = resnet8::make_plan(f.folded, ranges, o);
  const auto module = resnet8::int8_module(plan, resnet8::current_engine(), "{}");
  const auto x = resnet8::cifar10::to_model_input(f.calib.images);
  torch::NoGradGuard no_grad;
  const auto real = module->forward({x}).toTensor();
  const auto simulated = resnet8::simulate(f.folded, plan).forward(x);
  // Both round every activation to the same grids (the pooled features included) and use the same int32
  // biases; they differ only where float and integer arithmetic put a value on different sides of a
  // rounding boundary: far less than either differs from fp32.
  const double to_sim = (real - simulated).abs().mean().item<double>();
  const double to_fp32 = (real - f.folded.forward(x)).abs().mean().item<double>();
  MESSAGE("mean |int8 - simulated| ", to_sim, ", mean |int8 - fp32| ", to_fp32);
  CHECK(to_sim < 0.05 * to_fp32);

  auto wide = plan;
  wide.weight_bits = 9;
  CHECK(option_of([&] { resnet8::declared_scheme(wide); }) == "weight_bits");
  auto a1 = plan;
  a1.activation_bits = 1;
  CHECK(option_of([&] { resnet8::declared_scheme(a1); }) == "activation_bits");
  auto partial = plan;
  partial.activations[1].kept_float = true;
  CHECK(option_of([&] { resnet8::declared_scheme(partial); }) == "float_points");
}

TEST_CASE("the plan as JSON: every layer and point with its parameters") {
  Fixture f;
  const auto ranges = resnet8::calibrate(f.folded, f.calib, {resnet8::ObserverKind::kMse, 500, nullptr});
  const auto plan = resnet8::make_plan(f.folded, ranges, {});
  const nlohmann::json j = plan;
  CHECK(j["weight_bits"] == 7);
  CHECK(j["observer"] == "mse");
  CHECK(j["layers"].size() == plan.layers.size());
  CHECK(j["layers"][0]["layer"] == "stem.conv");
  CHECK(j["layers"][0]["weight_scales"].size() == 16);
  CHECK(j["activations"][1]["point"] == "stem.conv");
  CHECK(j["activations"][1]["scale"].get<double>() == plan.activations[1].qparams.scale);
  const auto text = resnet8::json_text(j);
  CHECK(nlohmann::json::parse(text) == j);
}
