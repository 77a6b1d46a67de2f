#include <resnet8/run/classifier.h>

#include <resnet8/data/cifar10.h>
#include <resnet8/data/weights.h>
#include <resnet8/formats/int8_file.h>
#include <resnet8/model/folded.h>
#include <resnet8/model/model.h>
#include <resnet8/quant/int8_scheme.h>
#include <resnet8/run/engine.h>
#include <resnet8/run/int8_native.h>
#include <resnet8/support/error.h>
#include <resnet8/support/input_file.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/script.h>

namespace fs = std::filesystem;

namespace resnet8 {
namespace {

std::uintmax_t checked_size(const fs::path& file) { return input_file_size(file, "model file"); }

// An int8 file of resnet8-ptq, checked as data before any path runs it (read_quantized_plan(): storage
// sizes, scales, zero points, integers), with the engine chosen for the scheme its integers need (never
// the one its metadata claims) and made current.
struct Int8File {
  QuantPlan plan;
  std::string engine;
};

std::optional<Int8File> int8_file(const fs::path& file, const std::string& asked) {
  if (!recorded_scheme(file)) return std::nullopt;
  Int8File out{read_quantized_plan(file), ""};
  const Int8Scheme scheme = integer_scheme(out.plan);
  out.engine = asked.empty() ? engine_for(scheme, file.string()) : asked;
  set_engine(out.engine);
  // A scheme that only VNNI kernels compute exactly is refused here, before it can saturate.
  check_exact(scheme, out.engine, file.string());
  return out;
}

}  // namespace

Classifier torchscript_classifier(const fs::path& file, const std::string& asked_engine) {
  const auto bytes = checked_size(file);
  const auto int8 = int8_file(file, asked_engine);
  torch::jit::Module module;
  try {
    module = torch::jit::load(file.string(), torch::kCPU);
  } catch (const std::exception& e) {
    throw Error(fmt::format("{}: not a loadable TorchScript module ({})", file.string(), one_line_reason(e)));
  }
  module.eval();
  auto forward = [module](const at::Tensor& x) mutable { return module.forward({x}).toTensor(); };
  return {forward, "torchscript", int8 ? int8->engine : "", file, bytes};
}

Classifier native_classifier(const fs::path& file, const std::string& asked_engine) {
  const auto bytes = checked_size(file);
  if (auto int8 = int8_file(file, asked_engine)) {
    auto model = std::make_shared<const Int8ResNet8>(int8->plan);
    auto forward = [model](const at::Tensor& x) { return model->forward(x); };
    return {forward, "native", int8->engine, file, bytes};
  }
  auto model = std::make_shared<const FoldedResNet8>(fold(load_resnet8(file)));
  auto forward = [model](const at::Tensor& x) { return model->forward(x); };
  return {forward, "native", "", file, bytes};
}

Classifier module_classifier(const fs::path& file) {
  const auto bytes = checked_size(file);
  if (recorded_scheme(file)) {
    throw Error(
        fmt::format("{}: an int8 file; the unfolded ResNet8 module runs fp32 exports only (int8 files run "
                    "as TorchScript or natively)",
                    file.string()));
  }
  ResNet8 model = load_resnet8(file);
  model->eval();
  auto forward = [model](const at::Tensor& x) mutable { return model->forward(x); };
  return {forward, "module", "", file, bytes};
}

at::Tensor classify(const Classifier& c, const at::Tensor& x) {
  at::Tensor scores;
  try {
    scores = c.forward(x);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(fmt::format("{}: the model's forward failed: {}", c.file.string(), one_line_reason(e)));
  }
  const int64_t n = x.size(0), k = cifar10::kNumClasses;
  if (!scores.defined() || !at::isFloatingType(scores.scalar_type()) || scores.dim() != 2 || scores.size(0) != n ||
      scores.size(1) != k) {
    throw Error(fmt::format("{}: the model returned {} {}, expected floating-point scores of shape [{}, {}]",
                            c.file.string(), scores.defined() ? c10::toString(scores.scalar_type()) : "nothing",
                            scores.defined() ? fmt::format("[{}]", fmt::join(scores.sizes(), ", ")) : "", n, k));
  }
  if (!scores.isfinite().all().item<bool>()) {
    throw Error(fmt::format("{}: the model returned NaN or infinite scores", c.file.string()));
  }
  return scores;
}

Classifier load_classifier(const fs::path& file, Runner runner, const std::string& engine) {
  switch (runner) {
    case Runner::kNative: return native_classifier(file, engine);
    case Runner::kModule: return module_classifier(file);
    case Runner::kTorchScript: break;
  }
  return torchscript_classifier(file, engine);
}

}  // namespace resnet8
