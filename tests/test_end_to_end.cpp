// End-to-end on the real CIFAR-10 test set and the real export (suite "e2e"). ctest passes their
// locations in RESNET8_DATA_DIR and RESNET8_FP32_MODEL; a missing file fails the test.
#include "testing.h"

#include <resnet8/data/calibration.h>
#include <resnet8/data/cifar10.h>
#include <resnet8/data/weights.h>
#include <resnet8/engine/engine.h>
#include <resnet8/engine/saturation.h>
#include <resnet8/model/folded.h>
#include <resnet8/model/model.h>
#include <resnet8/pipeline/quantize.h>
#include <resnet8/quant/simulate.h>
#include <resnet8/run/classifier.h>
#include <resnet8/run/evaluate.h>

#include <torch/script.h>

#include <cstdlib>

namespace {

std::filesystem::path required_path(const char* variable) {
  const char* value = std::getenv(variable);
  REQUIRE_MESSAGE(value != nullptr, variable, " is not set (ctest sets it)");
  REQUIRE_MESSAGE(
      std::filesystem::exists(value), value,
      " does not exist: run scripts/fetch_data.py, scripts/fetch_model.py and scripts/export_torchscript.py");
  return value;
}

}  // namespace

TEST_SUITE("e2e") {
  TEST_CASE(
      "the ResNet8 module, the folded native path and the TorchScript export all score 8719/10000, dog 742/1000") {
    using namespace resnet8;
    const auto data_dir = required_path("RESNET8_DATA_DIR");
    const auto model = required_path("RESNET8_FP32_MODEL");
    const cifar10::Dataset test = cifar10::read_split(data_dir, cifar10::Split::kTest);
    REQUIRE(test.size() == 10000);

    const Classifier scripted = torchscript_classifier(model);
    const Classifier module = module_classifier(model);  // unfolded: batch norms, SameConv2d padding
    const Classifier native = native_classifier(model);  // folded: BN in the weights, the direct float kernels
    {
      c10::InferenceMode guard;
      const auto x = cifar10::to_model_input(test.images.slice(0, 0, 1000));
      const auto reference = scripted.forward(x);
      const double module_diff = (module.forward(x) - reference).abs().max().item<double>();
      const double native_diff = (native.forward(x) - reference).abs().max().item<double>();
      MESSAGE("max |module - torchscript| ", module_diff, ", max |native - torchscript| ", native_diff,
              " on 1000 images");
      CHECK(module_diff <= 1e-5);
      CHECK(native_diff <= 1e-5);
      double native_batch1_diff = 0;  // batch 1 runs on two cores (SplitWorker)
      for (int64_t i = 0; i < 50; ++i) {
        const auto one = native.forward(x.slice(0, i, i + 1)) - reference.slice(0, i, i + 1);
        native_batch1_diff = std::max(native_batch1_diff, one.abs().max().item<double>());
      }
      MESSAGE("max |native - torchscript| at batch 1 ", native_batch1_diff, " on 50 images");
      CHECK(native_batch1_diff <= 1e-5);
    }
    for (const Classifier* c : {&scripted, &module, &native}) {
      INFO(c->kind);
      const EvalReport report = evaluate(*c, test, EvalOptions{});
      CHECK(report.images == 10000);
      CHECK(report.correct == 8719);
      CHECK(report.class_correct(5) == 742);  // dog
      CHECK(report.class_total(5) == 1000);
    }
  }

  TEST_CASE("default PTQ on 1,000 calibration images: >= 87.1% on the test set, file <= 100 KB, reload bit-identical") {
    using namespace resnet8;
    const auto data_dir = required_path("RESNET8_DATA_DIR");
    const auto model = required_path("RESNET8_FP32_MODEL");
    const FoldedResNet8 folded = fold(load_resnet8(model));
    const cifar10::Dataset test = cifar10::read_split(data_dir, cifar10::Split::kTest);

    c10::InferenceMode guard;
    const auto x = cifar10::to_model_input(test.images.slice(0, 0, 1000));

    QuantizeOptions options;
    options.calib_per_class = 100;
    const QuantizedResNet8 q = quantize(folded, calibration_set(data_dir, 100, 0), options);
    CHECK(q.engine == default_engine());
    CHECK(q.scheme.fits_int16_pairs());  // exact on every x86 CPU, so the file is correct wherever it loads

    testing::TempDir dir;
    const auto file = dir / "int8.pt";
    save_quantized(q, file);
    const auto bytes = std::filesystem::file_size(file);
    MESSAGE("int8 file: ", bytes, " bytes");
    CHECK(bytes <= 100000);
    CHECK(recorded_engine(file) == q.engine);
    const auto scheme = recorded_scheme(file);
    REQUIRE(scheme.has_value());
    CHECK(scheme->weight_bits == q.scheme.weight_bits);
    CHECK(scheme->activation_bits == q.scheme.activation_bits);
    CHECK_FALSE(recorded_scheme(model).has_value());  // the fp32 export is no resnet8-ptq file

    const at::Tensor in_memory = q.module->forward({x}).toTensor();
    const Classifier reloaded = torchscript_classifier(file);
    CHECK(reloaded.engine == q.engine);
    CHECK(torch::equal(reloaded.forward(x), in_memory));

    const EvalReport report = evaluate(reloaded, test, EvalOptions{});
    MESSAGE("int8 accuracy: ", report.correct, "/10000");
    CHECK(report.correct >= 8710);
  }

  TEST_CASE("4-bit weights with every method on 100 calibration images: far above round-to-nearest, real = simulated") {
    using namespace resnet8;
    const auto data_dir = required_path("RESNET8_DATA_DIR");
    const FoldedResNet8 folded = fold(load_resnet8(required_path("RESNET8_FP32_MODEL")));
    const cifar10::Dataset test = cifar10::read_split(data_dir, cifar10::Split::kTest);
    QuantizeOptions options;
    options.weight_bits = 4;
    options.weight_range = WeightRange::kMse;
    options.equalize = true;
    options.refine.rounding = Rounding::kAdaRound;
    options.refine.bias_correction = true;
    options.refine.adaround.iterations = 2000;
    options.calib_per_class = 10;
    const QuantizedResNet8 q = quantize(folded, calibration_set(data_dir, 10, 0), options);
    CHECK(q.plan.rounding == "adaround");
    for (const LayerPlan& l : q.plan.layers) {  // the first and last layers at 7 bits by default
      INFO(l.name);
      CHECK(l.weight_bits == (l.name == "stem.conv" || l.name == "fc" ? 7 : 4));
    }
    CHECK(int8_metadata(q).layer_weight_bits == std::map<std::string, int>{{"fc", 7}, {"stem.conv", 7}});
    const Classifier real{[&](const at::Tensor& x) { return q.module->forward({x}).toTensor(); },
                          ModelKind::kTorchScript, "", "", 0};
    const SimulatedModel sim = simulate(q.network, q.plan);
    const Classifier simulated{[&](const at::Tensor& x) { return sim.forward(x); }, ModelKind::kSimulated, "", "", 0};
    const double real_accuracy = evaluate(real, test, EvalOptions{}).accuracy();
    const double simulated_accuracy = evaluate(simulated, test, EvalOptions{}).accuracy();
    MESSAGE("w4a8, 100 calibration images, 2000 AdaRound steps: int8 ", 100 * real_accuracy, "%, simulated ",
            100 * simulated_accuracy, "%");
    CHECK(real_accuracy >= 0.85);
    CHECK(std::abs(real_accuracy - simulated_accuracy) <= 0.001);  // 0.1 pp
  }

  TEST_CASE("a file with 8-bit weights and activations refuses to load where the kernels would saturate") {
    using namespace resnet8;
    const auto data_dir = required_path("RESNET8_DATA_DIR");
    const auto model = required_path("RESNET8_FP32_MODEL");
    // qnnpack computes in int32 on every CPU, so it can write the VNNI-only scheme anywhere.
    const auto engines = available_engines();
    REQUIRE(std::find(engines.begin(), engines.end(), "qnnpack") != engines.end());
    QuantizeOptions options;
    options.engine = "qnnpack";
    options.weight_bits = 8;
    options.activation_bits = 8;
    const QuantizedResNet8 q = quantize(fold(load_resnet8(model)), calibration_set(data_dir, 10, 0), options);
    testing::TempDir dir;
    const auto file = dir / "w8a8.pt";
    save_quantized(q, file);

    for (const std::string engine : {"x86", "onednn"}) {
      INFO("engine ", engine);
      const bool saturates = kernels_saturate_int16_pairs(engine);
      // The C++ loader checks the recorded scheme (with a message naming the file) ...
      const std::string why =
          saturates ? testing::error_of([&] { check_exact(*recorded_scheme(file), engine, file.string()); }) : "";
      CHECK((why.find("w8a8.pt: 8-bit weights, 8-bit activations would silently saturate") != std::string::npos) ==
            saturates);
      // ... and the file's own __setstate__ probes the kernels, for loaders that do not (Python).
      set_engine(engine);
      bool refused = false;
      try {
        torch::jit::load(file.string());
      } catch (const std::exception& e) {  // torch::jit::JITException is no c10::Error
        refused = std::string(e.what()).find("resnet8: this int8 file uses 8-bit weights, 8-bit activations") !=
                  std::string::npos;
      }
      CHECK(refused == saturates);
    }
  }
}
