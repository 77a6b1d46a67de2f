#include <resnet8/run/classifier.h>

#include <resnet8/data/archive.h>
#include <resnet8/data/cifar10.h>
#include <resnet8/data/weights.h>
#include <resnet8/engine/engine.h>
#include <resnet8/engine/saturation.h>
#include <resnet8/formats/int8_file.h>
#include <resnet8/formats/tflite_model.h>
#include <resnet8/model/folded.h>
#include <resnet8/model/model.h>
#include <resnet8/program/host_kernels.h>
#include <resnet8/program/interpreter.h>
#include <resnet8/program/program.h>
#include <resnet8/program/split_worker.h>
#include <resnet8/quant/int8_scheme.h>
#include <resnet8/run/float_direct.h>
#include <resnet8/run/int8_native.h>
#include <resnet8/support/error.h>
#include <resnet8/support/input_file.h>

#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/script.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <mutex>
#include <thread>

namespace fs = std::filesystem;

namespace resnet8 {
namespace {

std::uintmax_t checked_size(const fs::path& file) { return input_file_size(file, "model file"); }

// An int8 file of resnet8-ptq, checked as data before any path runs it (read_int8_file(): storage sizes,
// scales, zero points, integers), with the engine chosen for the scheme its integers need (never the one
// its metadata claims) and made current.
struct Int8Run {
  QuantPlan plan;
  std::string engine;
};

std::optional<Int8Run> int8_file(const TorchScriptArchive& archive, const std::string& asked) {
  std::optional<Int8File> file = read_int8_file(archive);
  if (!file) return std::nullopt;
  Int8Run out{std::move(file->plan), ""};
  const Int8Scheme scheme = required_scheme(out.plan);
  const std::string what = archive.file().string();
  out.engine = asked.empty() ? engine_for(scheme, what) : asked;
  set_engine(out.engine);
  // A scheme that only VNNI kernels compute exactly is refused here, before it can saturate.
  check_exact(scheme, out.engine, what);
  return out;
}

// The second core of a .tflite run on x86 kernels or of the direct float network, for batches smaller than the
// thread count (one image on two cores); made at first use and kept, since a thread started per call costs more than an
// image.
struct SplitCore {
  std::mutex mutex;
  std::unique_ptr<SplitWorker> worker;
};

// A batch of float NHWC 0..255 images through a model run one image at a time, `in` floats in and `out` scores out
// an image, the images split between at::get_num_threads() threads (std::thread, not at::parallel_for: ATen's
// OpenMP loop only runs in parallel where the caller is compiled with -fopenmp). make_runner() is called once per
// image thread and returns run(image, scores, worker). A batch run by one image thread with two LibTorch threads
// or more gets the second core (SplitWorker, `split_scratch` bytes of scratch; none when negative) unless another
// call holds it.
template <typename MakeRunner>
at::Tensor run_images(const at::Tensor& x, int64_t in, int64_t out, const char* model, SplitCore& split,
                      int64_t split_scratch, MakeRunner&& make_runner) {
  const at::Tensor images = x.contiguous().to(at::kFloat);
  const int64_t n = images.size(0);
  if (images.numel() != n * in) throw Error(fmt::format("{} takes [N, 32, 32, 3] images", model));
  at::Tensor scores = at::empty({n, out}, at::kFloat);
  const float* px = images.data_ptr<float>();
  float* sc = scores.data_ptr<float>();
  const int64_t threads = std::min<int64_t>(std::max(1, at::get_num_threads()), n);
  std::unique_lock<std::mutex> split_lock(split.mutex, std::defer_lock);
  SplitWorker* worker = nullptr;
  if (split_scratch >= 0 && threads == 1 && at::get_num_threads() >= 2 && split_lock.try_lock()) {
    if (!split.worker) split.worker = std::make_unique<SplitWorker>(split_scratch);
    worker = split.worker.get();
  }
  auto images_in = [&](int64_t begin, int64_t end) {
    auto run = make_runner();
    for (int64_t i = begin; i < end; ++i) run(px + i * in, sc + i * out, worker);
  };
  std::vector<std::thread> pool;
  for (int64_t t = 1; t < threads; ++t) pool.emplace_back(images_in, n * t / threads, n * (t + 1) / threads);
  images_in(0, threads > 0 ? n / threads : n);
  for (auto& t : pool) t.join();
  return scores;
}

// The input's quantization, q = round(x / scale) + zero point clamped to int8 (TFLite's), looked up for the whole
// numbers 0..255 that images from uint8 data hold: std::nearbyint is a libm call per value on baseline x86-64,
// 6 % of an image's time on the x86 kernels. Any other value is computed.
class InputQuantizer {
 public:
  explicit InputQuantizer(const PreparedModel& m) : scale_(m.input_scale), zero_point_(m.input_zero_point) {
    for (int v = 0; v < 256; ++v) table_[static_cast<size_t>(v)] = compute(static_cast<float>(v));
  }
  int8_t operator()(float x) const {
    if (x >= 0.0f && x <= 255.0f) {
      const int v = static_cast<int>(x);
      if (static_cast<float>(v) == x) return table_[static_cast<size_t>(v)];
    }
    return compute(x);
  }

 private:
  int8_t compute(float x) const {
    const float q = std::nearbyint(x / scale_) + static_cast<float>(zero_point_);
    return static_cast<int8_t>(std::clamp(q, -128.0f, 127.0f));
  }
  float scale_;
  int32_t zero_point_;
  std::array<int8_t, 256> table_{};
};

// A batch through the integer program (run_images); the int8 scores dequantized. The second core only where
// the convolutions run on x86 kernels.
at::Tensor run_tflite(const IntegerProgram& p, const at::Tensor& x, SplitCore& split) {
  const PreparedModel& m = p.prepared;
  const int64_t in = p.input_bytes(), out = p.output_bytes();
  const InputQuantizer quantize(m);
  return run_images(x, in, out, "a .tflite model", split, p.x86_level != 0 ? p.host_scratch_bytes : -1, [&] {
    return [&, input = std::vector<int8_t>(static_cast<size_t>(in)),
            output = std::vector<int8_t>(static_cast<size_t>(out)),
            arena = std::vector<int8_t>()](const float* image, float* scores, SplitWorker* worker) mutable {
      for (int64_t k = 0; k < in; ++k) input[static_cast<size_t>(k)] = quantize(image[k]);
      run_program(p, input.data(), output.data(), arena, worker);
      for (int64_t k = 0; k < out; ++k) {
        scores[k] = static_cast<float>(output[static_cast<size_t>(k)] - m.output_zero_point) * m.output_scale;
      }
    };
  });
}

// A batch through the direct float network (run_images).
at::Tensor run_direct(const DirectFloatNet& net, const at::Tensor& x, SplitCore& split) {
  return run_images(x, net.input_floats(), net.output_floats(), "the fp32 network", split, 0, [&] {
    return [&net, arena = std::vector<float>()](const float* image, float* scores, SplitWorker* worker) mutable {
      net.run(image, scores, arena, worker);
    };
  });
}

}  // namespace

Classifier torchscript_classifier(const fs::path& file, const std::string& asked_engine) {
  const auto bytes = checked_size(file);
  const TorchScriptArchive archive(file);
  const auto int8 = int8_file(archive, asked_engine);
  torch::jit::Module module;
  try {
    module = torch::jit::load(archive.adapter(), torch::kCPU);
  } catch (const std::exception& e) {
    throw Error(fmt::format("{}: not a loadable TorchScript module ({})", file.string(), one_line_reason(e)));
  }
  module.eval();
  auto forward = [module](const at::Tensor& x) mutable { return module.forward({x}).toTensor(); };
  Classifier c{forward, ModelKind::kTorchScript, int8 ? int8->engine : "", file, bytes};
  c.integer = int8.has_value();
  return c;
}

Classifier native_classifier(const fs::path& file, const std::string& asked_engine, const std::string& kernels) {
  const auto bytes = checked_size(file);
  if (auto int8 = int8_file(TorchScriptArchive(file), asked_engine)) {
    if (!kernels.empty()) {
      throw OptionError("kernels", fmt::format("{}: an int8 TorchScript file runs on LibTorch's quantized kernels "
                                               "(--engine); --kernels chooses the float kernels of the fp32 export "
                                               "or the integer kernels of a .tflite",
                                               file.string()));
    }
    auto model = std::make_shared<const Int8ResNet8>(int8->plan);
    auto forward = [model](const at::Tensor& x) { return model->forward(x); };
    Classifier c{forward, ModelKind::kNative, int8->engine, file, bytes};
    c.integer = true;
    return c;
  }
  const FloatLevel level = parse_float_level(kernels.empty() ? "auto" : kernels, "kernels");
  const FoldedResNet8 folded = fold(load_resnet8(file));
  auto net = std::make_shared<const DirectFloatNet>(folded, level);
  auto split = std::make_shared<SplitCore>();
  auto forward = [net, split](const at::Tensor& x) { return run_direct(*net, x, *split); };
  Classifier c{forward, ModelKind::kNative, "", file, bytes};
  c.kernels = float_level_name(level);
  return c;
}

Classifier module_classifier(const fs::path& file) {
  const auto bytes = checked_size(file);
  if (TorchScriptArchive(file).record(std::string("extra/") + kMetadataRecord)) {
    throw Error(
        fmt::format("{}: an int8 file; the unfolded ResNet8 module runs fp32 exports only (int8 files run "
                    "as TorchScript or natively)",
                    file.string()));
  }
  ResNet8 model = load_resnet8(file);
  model->eval();
  auto forward = [model](const at::Tensor& x) mutable { return model->forward(x); };
  return {forward, ModelKind::kModule, "", file, bytes};
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

Classifier tflite_classifier(const fs::path& file, const std::string& kernels) {
  const HostKernels host = parse_host_kernels(kernels, "kernels");
  const auto bytes = checked_size(file);
  IntegerProgram prepared = prepare_program(read_tflite(file), file.string());
  use_host_kernels(prepared, host);
  auto program = std::make_shared<const IntegerProgram>(std::move(prepared));
  auto split = std::make_shared<SplitCore>();
  auto forward = [program, split](const at::Tensor& x) { return run_tflite(*program, x, *split); };
  Classifier c{forward, ModelKind::kTflite, "", file, bytes};
  c.kernels = host_kernels_name(host);
  c.multiply_accumulates = program->prepared.multiply_accumulates();
  c.integer = true;
  c.output_scale = program->prepared.output_scale;
  c.output_zero_point = program->prepared.output_zero_point;
  return c;
}

Classifier load_classifier(const fs::path& file, Runner runner, const std::string& engine, const std::string& kernels) {
  if (!kernels.empty() && !looks_like_tflite(file) && runner != Runner::kNative) {
    throw OptionError("kernels", fmt::format("{}: not a .tflite model; --kernels chooses the integer kernels of a "
                                             ".tflite model, or with --native the float kernels of the fp32 export",
                                             file.string()));
  }
  if (looks_like_tflite(file)) {
    // A .tflite always runs on the integer kernels, read as data: the TorchScript runners' options do not apply.
    if (!engine.empty()) {
      throw OptionError("engine", fmt::format("{}: a .tflite model runs on the integer kernels; --engine chooses "
                                              "LibTorch's quantized engine for int8 TorchScript files only",
                                              file.string()));
    }
    if (runner != Runner::kTorchScript) {
      throw OptionError(runner == Runner::kNative ? "native" : "module",
                        fmt::format("{}: a .tflite model always runs on the integer kernels, read as data; --{} "
                                    "chooses a runner for TorchScript files only",
                                    file.string(), runner == Runner::kNative ? "native" : "module"));
    }
    return tflite_classifier(file, kernels.empty() ? "auto" : kernels);
  }
  switch (runner) {
    case Runner::kNative: return native_classifier(file, engine, kernels);
    case Runner::kModule: return module_classifier(file);
    case Runner::kTorchScript: break;
  }
  return torchscript_classifier(file, engine);
}

}  // namespace resnet8
