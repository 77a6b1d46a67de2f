#include <resnet8/run/benchmark.h>

#include <resnet8/data/cifar10.h>
#include <resnet8/model/architecture.h>
#include <resnet8/run/report.h>
#include <resnet8/support/error.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/resource.h>
#include <torch/version.h>

#include <algorithm>
#include <chrono>
#include <cmath>

namespace resnet8 {
namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// One pass over `count` images in batches; returns seconds, appends per-call latencies if asked.
double timed_pass(const Classifier& c, const at::Tensor& images, int64_t batch, int64_t count,
                  std::vector<double>* latencies) {
  const auto start = Clock::now();
  for (int64_t done = 0; done < count; done += batch) {
    const int64_t begin = done % (images.size(0) - batch + 1);
    const auto t0 = Clock::now();
    const at::Tensor scores = c.forward(cifar10::to_model_input(images.slice(0, begin, begin + batch)));
    (void)scores.argmax(1);
    if (latencies) latencies->push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

double resnet8_ops_per_image() { return 2.0 * static_cast<double>(resnet8_graph().multiply_accumulates()); }

double BenchResult::median_images_per_second() const { return median(images_per_second); }

double BenchResult::latency_percentile_ms(double p) const {
  if (latency_ms.empty()) return 0;
  std::vector<double> v = latency_ms;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(std::ceil(p / 100.0 * v.size())) - (p > 0 ? 1 : 0));
  return v[i];
}

const BenchResult* BenchReport::best() const {
  const BenchResult* b = nullptr;
  for (const auto& r : results) {
    if (!b || r.median_images_per_second() > b->median_images_per_second()) b = &r;
  }
  return b;
}

BenchReport benchmark(const Classifier& classifier, const at::Tensor& images, const BenchOptions& options) {
  if (options.repeats < 1) throw Error("repeats must be >= 1");
  BenchReport report;
  report.model_path = classifier.file.string();
  report.model_kind = classifier.kind;
  report.quantized_engine = classifier.engine;
  report.kernels = classifier.kernels;
  report.model_bytes = classifier.file_bytes;
  report.ops_per_image = classifier.multiply_accumulates > 0
                             ? 2.0 * static_cast<double>(classifier.multiply_accumulates)
                             : resnet8_ops_per_image();
  report.integer = classifier.integer;
  report.libtorch_version = TORCH_VERSION;
  report.repeats = options.repeats;
  report.images = options.images;

  c10::InferenceMode guard;
  // The model's output is checked once (shape, dtype, finite) before anything is timed.
  classify(classifier, cifar10::to_model_input(images.slice(0, 0, std::min<int64_t>(8, images.size(0)))));
  for (const int threads : options.threads) {
    at::set_num_threads(threads);
    for (const int64_t batch : options.batch_sizes) {
      if (batch > images.size(0)) {
        throw Error(fmt::format("batch size {} is larger than the {} images available", batch, images.size(0)));
      }
      if (options.on_step)
        options.on_step(fmt::format("{} thread{}, batch {}", threads, threads == 1 ? "" : "s", batch));
      BenchResult r;
      r.threads = threads;
      r.batch_size = batch;
      r.ops_per_image = report.ops_per_image;
      const int64_t count = (options.images + batch - 1) / batch * batch;
      timed_pass(classifier, images, batch, std::max<int64_t>(count / 4, batch), nullptr);  // warm-up
      for (int rep = 0; rep < options.repeats; ++rep) {
        const double seconds = timed_pass(classifier, images, batch, count, batch == 1 ? &r.latency_ms : nullptr);
        r.images_per_second.push_back(double(count) / seconds);
      }
      report.results.push_back(std::move(r));
    }
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  report.peak_rss_bytes = static_cast<int64_t>(usage.ru_maxrss) * 1024;
  return report;
}

std::string to_table(const BenchReport& r) {
  std::string out =
      fmt::format("model      {} ({}{}, {:.1f} kB), libtorch {}\n", r.model_path, model_kind_name(r.model_kind),
                  r.quantized_engine.empty() ? "" : ", int8 on " + r.quantized_engine,
                  static_cast<double>(r.model_bytes) / 1000.0, r.libtorch_version);
  if (!r.kernels.empty() && r.integer)
    out += fmt::format("kernels    integer C (TFLM's arithmetic), convolutions on {}\n", r.kernels);
  else if (!r.kernels.empty())
    out += fmt::format("kernels    direct float convolutions on {}\n", r.kernels);
  out += fmt::format("method     median of {} passes of {} images each, after a warm-up pass\n", r.repeats, r.images);
  const char* ops = r.integer ? "GOP/s" : "GFLOP/s";
  out += fmt::format("{:>7} {:>6} {:>12} {:>12} {:>12} {:>8} {:>10} {:>10}\n", "threads", "batch", "images/s", "min",
                     "max", ops, "p50 ms", "p99 ms");
  for (const auto& x : r.results) {
    const auto [lo, hi] = std::minmax_element(x.images_per_second.begin(), x.images_per_second.end());
    out += fmt::format("{:>7} {:>6} {:>12.0f} {:>12.0f} {:>12.0f} {:>8.1f}", x.threads, x.batch_size,
                       x.median_images_per_second(), *lo, *hi, x.median_gops());
    out += x.latency_ms.empty()
               ? "\n"
               : fmt::format(" {:>10.3f} {:>10.3f}\n", x.latency_percentile_ms(50), x.latency_percentile_ms(99));
  }
  if (const BenchResult* b = r.best()) {
    out += fmt::format("best       {:.0f} images/s = {:.1f} {} ({} threads, batch {}; {:.1f} M operations per image)\n",
                       b->median_images_per_second(), b->median_gops(), ops, b->threads, b->batch_size,
                       r.ops_per_image / 1e6);
  }
  out += fmt::format("peak RSS   {:.1f} MB\n", static_cast<double>(r.peak_rss_bytes) / 1e6);
  return out;
}

}  // namespace resnet8
