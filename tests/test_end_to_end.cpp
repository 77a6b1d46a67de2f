// End-to-end on the real CIFAR-10 test set and the real export (suite "e2e"). ctest passes their
// locations in RESNET8_DATA_DIR and RESNET8_FP32_MODEL; a missing file fails the test.
#include "testing.h"

#include <resnet8/calibration.h>
#include <resnet8/cifar10.h>
#include <resnet8/classifier.h>
#include <resnet8/evaluate.h>
#include <resnet8/engine.h>
#include <resnet8/folded.h>
#include <resnet8/model.h>
#include <resnet8/quantize.h>
#include <resnet8/weights.h>

#include <torch/script.h>

#include <cstdlib>

namespace {

std::filesystem::path required_path(const char* variable) {
  const char* value = std::getenv(variable);
  REQUIRE_MESSAGE(value != nullptr, variable, " is not set (ctest sets it)");
  REQUIRE_MESSAGE(std::filesystem::exists(value), value,
                  " does not exist: run scripts/fetch_data.py, scripts/fetch_model.py and scripts/export_torchscript.py");
  return value;
}

}  // namespace

TEST_SUITE("e2e") {
  TEST_CASE("TorchScript export and native module agree and both score 8719/10000, dog 742/1000") {
    using namespace resnet8;
    const auto data_dir = required_path("RESNET8_DATA_DIR");
    const auto model = required_path("RESNET8_FP32_MODEL");
    const cifar10::Dataset test = cifar10::read_split(data_dir, cifar10::Split::kTest);
    REQUIRE(test.size() == 10000);

    const Classifier scripted = torchscript_classifier(model);
    const Classifier native = native_classifier(model);
    {
      c10::InferenceMode guard;
      const auto x = cifar10::to_model_input(test.images.slice(0, 0, 1000));
      const double max_diff = (scripted.forward(x) - native.forward(x)).abs().max().item<double>();
      MESSAGE("max |torchscript - native| on 1000 images: ", max_diff);
      CHECK(max_diff <= 1e-5);
    }
    for (const Classifier* c : {&scripted, &native}) {
      INFO(c->kind);
      const EvalReport report = evaluate(*c, test, EvalOptions{});
      CHECK(report.images == 10000);
      CHECK(report.correct == 8719);
      CHECK(report.class_correct(5) == 742);  // dog
      CHECK(report.class_total(5) == 1000);
    }
  }

  TEST_CASE("default PTQ on 1,000 calibration images: >= 86.9% on the test set, file <= 100 KB, reload bit-identical") {
    using namespace resnet8;
    const auto data_dir = required_path("RESNET8_DATA_DIR");
    const auto model = required_path("RESNET8_FP32_MODEL");
    const FoldedResNet8 folded = fold(load_resnet8(model));
    const cifar10::Dataset test = cifar10::read_split(data_dir, cifar10::Split::kTest);

    c10::InferenceMode guard;
    // Folding batch norm and the padding changes nothing that matters.
    const auto x = cifar10::to_model_input(test.images.slice(0, 0, 1000));
    CHECK((folded.forward(x) - native_classifier(model).forward(x)).abs().max().item<double>() <= 1e-4);

    QuantizeOptions options;
    options.calib_per_class = 100;
    const QuantizedResNet8 q = quantize(folded, calibration_set(data_dir, 100, 0), options);
    CHECK(q.engine == default_engine());

    testing::TempDir dir;
    const auto file = dir / "int8.pt";
    save_quantized(q, file);
    const auto bytes = std::filesystem::file_size(file);
    MESSAGE("int8 file: ", bytes, " bytes");
    CHECK(bytes <= 100000);
    CHECK(recorded_engine(file) == q.engine);

    const at::Tensor in_memory = q.module->forward({x}).toTensor();
    const Classifier reloaded = torchscript_classifier(file);
    CHECK(reloaded.engine == q.engine);
    CHECK(torch::equal(reloaded.forward(x), in_memory));

    const EvalReport report = evaluate(reloaded, test, EvalOptions{});
    MESSAGE("int8 accuracy: ", report.correct, "/10000");
    CHECK(report.correct >= 8690);
  }
}
