// Reading an int8 file's plan back as data, and the native int8 runner, on a random ResNet8 (no data files).
#include "testing.h"

#include <resnet8/engine/engine.h>
#include <resnet8/engine/saturation.h>
#include <resnet8/formats/int8_file.h>
#include <resnet8/formats/int8_torchscript.h>
#include <resnet8/model/folded.h>
#include <resnet8/model/model.h>
#include <resnet8/pipeline/json.h>
#include <resnet8/quant/activation_ranges.h>
#include <resnet8/quant/int8_scheme.h>
#include <resnet8/quant/planner.h>
#include <resnet8/run/int8_native.h>
#include <resnet8/support/error.h>

#include <torch/script.h>

using resnet8::testing::error_of;

namespace {

struct Network {
  resnet8::FoldedResNet8 folded;
  resnet8::ActivationRanges ranges;
  at::Tensor x;
  Network() {
    torch::manual_seed(21);
    resnet8::ResNet8 net;
    net->eval();
    folded = resnet8::fold(net);
    const auto images = torch::randint(0, 256, {24, 32, 32, 3}, torch::kByte);
    ranges = resnet8::calibrate(folded, {images, torch::arange(24, torch::kLong) % 10},
                                {resnet8::ObserverKind::kMinMax, 500, nullptr});
    x = resnet8::cifar10::to_model_input(images);
  }
};

// The plans the tests use: the default, per-tensor 3-bit weights with two layers in fp32, 8-bit weights, 6-bit
// activations (clamped), the pool on its input's grid as format-1 files have it, and 4-bit weights with the
// first and last layers at 7 bits (format 3).
std::vector<resnet8::PlanOptions> variants() {
  resnet8::PlanOptions a, b, c, d, e, f;
  b.weight_bits = 3;
  b.per_channel = false;
  b.float_layers = {"stack2.conv1", "fc"};
  c.weight_bits = 8;
  d.activation_bits = 6;
  e.pool_point = false;
  f.weight_bits = 4;
  f.layer_weight_bits = {{"stem.conv", 7}, {"fc", 7}};
  return {a, b, c, d, e, f};
}

std::string metadata_of(const resnet8::QuantPlan& plan) {
  nlohmann::json m = {{"reduce_range", plan.activation_bits == 7},
                      {"activation_bits", plan.activation_bits},
                      {"weight_bits", plan.weight_bits},
                      {"weights", plan.per_channel ? "per_channel_symmetric_qint8" : "per_tensor_symmetric_qint8"},
                      {"fp32_layers", plan.float_layers()}};
  if (plan.graph.node("pool").point == "pool") m["format"] = resnet8::int8_file_format(plan);  // format 1: none
  for (const auto& [layer, bits] : plan.other_weight_bits()) m["layer_weight_bits"][layer] = bits;
  return m.dump();
}

}  // namespace

TEST_CASE("activation_points() lists the points in the order calibration finds them") {
  const Network n;
  CHECK(resnet8::activation_points(n.folded) == n.ranges.points());
}

TEST_CASE("an int8 file's plan reads back as data: every weight, bias, scale and zero point as written") {
  const Network n;
  resnet8::set_engine("qnnpack");  // exact for every scheme on every CPU, 8-bit weights included
  resnet8::testing::TempDir dir;
  for (const auto& options : variants()) {
    INFO(options.weight_bits, "-bit weights, per_channel ", options.per_channel, ", ", options.activation_bits,
         "-bit activations, pool point ", options.pool_point);
    const auto plan = resnet8::make_plan(n.folded, n.ranges, options);
    const auto file = dir / "q.pt";
    resnet8::save_quantized(*resnet8::int8_module(plan, "qnnpack", metadata_of(plan)), "qnnpack", metadata_of(plan),
                            file);
    const auto read = resnet8::read_quantized_plan(file);
    CHECK(read.weight_bits == plan.weight_bits);
    CHECK(read.activation_bits == plan.activation_bits);
    CHECK(read.per_channel == plan.per_channel);
    CHECK(read.graph.node("pool").point == plan.graph.node("pool").point);
    REQUIRE(read.layers.size() == plan.layers.size());
    for (size_t i = 0; i < plan.layers.size(); ++i) {
      const auto &a = plan.layers[i], &b = read.layers[i];
      INFO(a.name);
      CHECK(b.name == a.name);
      CHECK(b.input == a.input);
      CHECK(b.weight_shape == a.weight_shape);
      CHECK((b.stride == a.stride && b.pad_before == a.pad_before && b.pad_after == a.pad_after && b.relu == a.relu));
      CHECK(b.kept_float == a.kept_float);
      CHECK(b.weight_bits == a.weight_bits);
      CHECK(b.weight == a.weight);
      CHECK(b.weight_scales == a.weight_scales);
      CHECK(b.bias == a.bias);
      CHECK(b.float_weight == a.float_weight);
    }
    REQUIRE(read.activations.size() == plan.activations.size());
    for (size_t i = 0; i < plan.activations.size(); ++i) {
      INFO(plan.activations[i].point);
      CHECK(read.activations[i].point == plan.activations[i].point);
      CHECK(read.activations[i].qparams.scale ==
            static_cast<float>(plan.activations[i].qparams.scale));  // stored as float32
      CHECK(read.activations[i].qparams.zero_point == plan.activations[i].qparams.zero_point);
    }
  }
}

TEST_CASE("a file whose state does not fit its recorded plan is refused, naming the file") {
  const Network n;
  resnet8::set_engine("qnnpack");
  resnet8::testing::TempDir dir;
  const auto plan = resnet8::make_plan(n.folded, n.ranges, {});
  const auto module = resnet8::int8_module(plan, "qnnpack", metadata_of(plan));
  auto claims_float = nlohmann::json::parse(metadata_of(plan));
  claims_float["fp32_layers"] = {"stem.conv"};  // the state holds stem.conv's integers, not fp32 weights
  auto claims_4bit = nlohmann::json::parse(metadata_of(plan));
  claims_4bit["weight_bits"] = 4;
  auto claims_wide_end = nlohmann::json::parse(metadata_of(plan));  // 7-bit weights; claims one layer of 8
  claims_wide_end["format"] = 3;
  claims_wide_end["layer_weight_bits"] = {{"fc", 8}};
  for (const nlohmann::json& metadata : std::vector<nlohmann::json>{claims_float, claims_4bit, claims_wide_end}) {
    const auto file = dir / "lying.pt";
    resnet8::save_quantized(*module, "qnnpack", metadata.dump(), file);
    const std::string why = error_of([&] { resnet8::read_quantized_plan(file); });
    INFO(why);
    CHECK(why.rfind(file.string() + ": ", 0) == 0);
  }
  const auto fp32 = dir / "fp32.pt";
  torch::jit::Module plain("__torch__.Plain");
  plain.register_attribute("w", c10::TensorType::get(), torch::zeros({2}));
  plain.save(fp32.string());
  CHECK(error_of([&] { resnet8::read_quantized_plan(fp32); }).find("not an int8 file written by resnet8-ptq") !=
        std::string::npos);
}

TEST_CASE("the native int8 runner gives bit-identical outputs to the int8 TorchScript module of the same plan") {
  const Network n;
  for (const auto& engine : resnet8::available_engines()) {
    for (const auto& options : variants()) {
      const auto plan = resnet8::make_plan(n.folded, n.ranges, options);
      const resnet8::Int8Scheme scheme = resnet8::declared_scheme(plan);
      if (!scheme.fits_int16_pairs() && resnet8::kernels_saturate_int16_pairs(engine)) continue;  // refused there
      INFO("engine ", engine, ", ", scheme.describe(), ", per_channel ", options.per_channel);
      const auto module = resnet8::int8_module(plan, engine, "{}");  // makes `engine` current
      const resnet8::Int8ResNet8 native(plan);
      CHECK(native.engine() == engine);
      torch::NoGradGuard no_grad;
      for (const int64_t batch : {24, 1, 5}) {
        INFO("batch ", batch);
        const auto x = n.x.slice(0, 0, batch);
        const auto expected = module->forward({x}).toTensor(), got = native.forward(x);
        if (plan.float_layers().empty()) {
          CHECK(torch::equal(got, expected));
        } else {
          // A layer kept in fp32 runs a float convolution, whose code path TorchScript's executor may change
          // after its first runs: an ulp there can move a value across a rounding boundary of the next layer.
          CHECK((got - expected).abs().max().item<double>() < 0.02);
        }
      }
    }
  }
  auto a1 = resnet8::make_plan(n.folded, n.ranges, {});
  a1.activation_bits = 1;
  CHECK_THROWS_AS(resnet8::Int8ResNet8{a1}, resnet8::OptionError);
}

TEST_CASE("6-bit activations are clamped to 0..63 in the int8 file, and the pool has a point of its own") {
  const Network n;
  resnet8::set_engine("qnnpack");
  resnet8::PlanOptions o;
  o.activation_bits = 6;
  const auto plan = resnet8::make_plan(n.folded, n.ranges, o);
  CHECK(plan.graph.node("pool").point == "pool");
  CHECK(plan.has_layer("fc"));
  const auto module = resnet8::int8_module(plan, "qnnpack", "{}");
  const std::string code = module->dump_to_str(true, false, false);  // the methods' graphs
  // One clamp per quantized layer, add and pool (10 layers, 3 adds, the pool), none for the input.
  size_t clamps = 0;
  for (size_t at = code.find("aten::clamp("); at != std::string::npos; at = code.find("aten::clamp(", at + 1)) ++clamps;
  CHECK(clamps == 14);
  CHECK(code.find("aten::mean(") != std::string::npos);
  CHECK(resnet8::required_scheme(plan).activation_bits == 6);
  CHECK(resnet8::required_scheme(plan).fits_int16_pairs());
  // The native runner clamps the same way: bit-identical, also on inputs far outside the calibrated ranges.
  const resnet8::Int8ResNet8 native(plan);
  torch::NoGradGuard no_grad;
  const auto loud = n.x * 0 + 255;
  CHECK(torch::equal(native.forward(loud), module->forward({loud}).toTensor()));
  CHECK(torch::equal(native.forward(n.x), module->forward({n.x}).toTensor()));
}

TEST_CASE("int8 files of format 1 (pool on its input's grid) still load; a later format is refused") {
  const Network n;
  resnet8::set_engine("qnnpack");
  resnet8::testing::TempDir dir;
  resnet8::PlanOptions v1;
  v1.pool_point = false;
  const auto plan = resnet8::make_plan(n.folded, n.ranges, v1);
  CHECK(resnet8::int8_file_format(plan) == 1);  // what resnet8-ptq records for such a plan
  CHECK(resnet8::int8_file_format(resnet8::make_plan(n.folded, n.ranges, {})) == 2);  // one width: as before
  resnet8::PlanOptions ends;
  ends.weight_bits = 4;
  ends.layer_weight_bits = {{"stem.conv", 7}};
  CHECK(resnet8::int8_file_format(resnet8::make_plan(n.folded, n.ranges, ends)) == resnet8::kInt8FileFormat);
  ends.pool_point = false;  // format 1 has no room for other widths
  CHECK_THROWS_AS(resnet8::int8_file_format(resnet8::make_plan(n.folded, n.ranges, ends)), resnet8::Error);
  const auto file = dir / "v1.pt";
  resnet8::save_quantized(*resnet8::int8_module(plan, "qnnpack", metadata_of(plan)), "qnnpack", metadata_of(plan),
                          file);
  const auto read = resnet8::read_quantized_plan(file);
  CHECK(read.graph.node("pool").point == "stack3.add");
  CHECK(read.activations.size() == plan.activations.size());
  auto later = nlohmann::json::parse(metadata_of(plan));
  later["format"] = resnet8::kInt8FileFormat + 1;
  resnet8::save_quantized(*resnet8::int8_module(plan, "qnnpack", later.dump()), "qnnpack", later.dump(), file);
  CHECK(error_of([&] { resnet8::read_quantized_plan(file); }).find("an int8 file of format 4; this resnet8 reads") !=
        std::string::npos);
}

TEST_CASE("engine_for: the default engine where it is exact for the scheme, else an exact one, else refused") {
  const resnet8::Int8Scheme w7a8{7, 8}, w8a8{8, 8};
  CHECK(resnet8::engine_for(w7a8, "f.pt") == resnet8::default_engine());
  const std::string e = resnet8::engine_for(w8a8, "f.pt");
  CHECK_FALSE(resnet8::kernels_saturate_int16_pairs(e));
  if (!resnet8::kernels_saturate_int16_pairs(resnet8::default_engine())) CHECK(e == resnet8::default_engine());
}
