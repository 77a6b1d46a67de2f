#include <resnet8/run/evaluate.h>

#include <resnet8/support/error.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/version.h>

#include <algorithm>
#include <chrono>
#include <thread>

namespace resnet8 {

int resolve_threads(int threads) {
  if (threads > 0) return threads;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

EvalReport evaluate(const Classifier& classifier, const cifar10::Dataset& data, const EvalOptions& options) {
  if (options.batch_size < 1) throw Error(fmt::format("batch size must be >= 1, got {}", options.batch_size));
  at::set_num_threads(resolve_threads(options.threads));

  EvalReport report;
  report.model_kind = classifier.kind;
  report.model_path = classifier.file.string();
  report.model_bytes = classifier.file_bytes;
  report.quantized_engine = classifier.engine;
  report.kernels = classifier.kernels;
  report.libtorch_version = TORCH_VERSION;
  report.threads = at::get_num_threads();
  report.batch_size = options.batch_size;
  report.images = data.size();
  report.predictions.reserve(data.size());

  constexpr int64_t k = cifar10::kNumClasses;
  at::Tensor confusion = at::zeros({k * k}, at::kLong);
  c10::InferenceMode inference;
  const auto start = std::chrono::steady_clock::now();
  for (int64_t begin = 0; begin < data.size(); begin += options.batch_size) {
    const int64_t end = std::min(begin + options.batch_size, data.size());
    const at::Tensor scores = classify(classifier, cifar10::to_model_input(data.images.slice(0, begin, end)));
    const at::Tensor predicted = scores.argmax(1);  // the first largest score, as a tie goes
    if (options.keep_scores) {
      const at::Tensor s = scores.to(at::kFloat).contiguous();
      report.scores.insert(report.scores.end(), s.data_ptr<float>(), s.data_ptr<float>() + s.numel());
    }
    confusion += at::bincount(data.labels.slice(0, begin, end) * k + predicted, {}, k * k);
    const at::Tensor p8 = predicted.to(at::kByte);
    report.predictions.insert(report.predictions.end(), p8.data_ptr<uint8_t>(), p8.data_ptr<uint8_t>() + p8.numel());
    if (options.on_progress) options.on_progress(end, data.size());
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  const int64_t* counts = confusion.data_ptr<int64_t>();
  for (int64_t t = 0; t < k; ++t) {
    for (int64_t p = 0; p < k; ++p) report.confusion[t][p] = counts[t * k + p];
    report.correct += counts[t * k + t];
  }
  return report;
}

}  // namespace resnet8
