#include <resnet8/run/report.h>

#include <resnet8/data/cifar10.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <numeric>

namespace resnet8 {
int64_t EvalReport::class_total(int c) const {
  return std::accumulate(confusion[c].begin(), confusion[c].end(), int64_t{0});
}

double EvalReport::class_accuracy(int c) const {
  const int64_t total = class_total(c);
  return total ? double(class_correct(c)) / double(total) : 0.0;
}

std::string to_table(const EvalReport& r) {
  std::string out;
  out += fmt::format("model      {} ({}{}, {:.1f} kB)\n", r.model_path, model_kind_name(r.model_kind),
                     r.quantized_engine.empty() ? "" : ", int8 on " + r.quantized_engine,
                     static_cast<double>(r.model_bytes) / 1000.0);
  if (r.model_kind == ModelKind::kTflite) {  // one image per call, images in parallel; LibTorch only holds the data
    out += fmt::format("kernels    integer C (TFLM's arithmetic), convolutions on {}, {} thread{}\n", r.kernels,
                       r.threads, r.threads == 1 ? "" : "s");
  } else if (!r.kernels.empty()) {
    out += fmt::format("kernels    direct float convolutions on {}, {} thread{}, batch size {}\n", r.kernels, r.threads,
                       r.threads == 1 ? "" : "s", r.batch_size);
  } else {
    out += fmt::format("libtorch   {}, {} thread{}, batch size {}\n", r.libtorch_version, r.threads,
                       r.threads == 1 ? "" : "s", r.batch_size);
  }
  out += fmt::format("{:<12} {:>9} {:>9}\n", "class", "correct", "accuracy");
  for (int c = 0; c < cifar10::kNumClasses; ++c) {
    out += fmt::format("{:<12} {:>4}/{:<4} {:>8.2f}%\n", cifar10::kClassNames[c], r.class_correct(c), r.class_total(c),
                       100.0 * r.class_accuracy(c));
  }
  out += fmt::format("accuracy   {:.2f}% ({}/{})\n", 100.0 * r.accuracy(), r.correct, r.images);
  out += fmt::format("speed      {:.0f} images/s ({:.3f} s)\n", r.images_per_second(), r.seconds);
  return out;
}

}  // namespace resnet8
