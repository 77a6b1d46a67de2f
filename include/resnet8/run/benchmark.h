#pragma once
// Throughput and latency of a classifier on real images: for each thread count and batch size, a
// warm-up pass, then `repeats` timed passes over `images` images (uint8 -> float conversion
// included, as in evaluation); the median pass is reported. Batch size 1 also yields per-call
// latency percentiles.
#include <resnet8/run/classifier.h>
#include <resnet8/run/op_profile.h>

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace resnet8 {

// The arithmetic of one ResNet8 inference: 2 operations (multiply, add) per multiply-accumulate of its
// convolutions (3x3 kernels, as trained) and classifier, from the architecture. GFLOP/s (fp32) and GOP/s
// (int8) are images/s times the model's operations per image: this for a TorchScript file, the program's own
// count for a .tflite (Classifier::multiply_accumulates).
double resnet8_ops_per_image();

struct BenchOptions {
  std::vector<int64_t> batch_sizes = {1, 32, 256, 1000};
  std::vector<int> threads = {2};
  int repeats = 5;
  int64_t images = 2000;                            // per timed pass (rounded up to whole batches)
  std::function<void(const std::string&)> on_step;  // called before each (threads, batch) measurement
};

struct BenchResult {
  int threads = 0;
  int64_t batch_size = 0;
  std::vector<double> images_per_second;  // one per timed pass
  std::vector<double> latency_ms;         // every call of every timed pass (batch size 1 only)
  double median_images_per_second() const;
  double ops_per_image = 0;  // the model's (BenchReport::ops_per_image)
  double median_gops() const { return median_images_per_second() * ops_per_image / 1e9; }
  double latency_percentile_ms(double p) const;  // p in [0, 100]; 0 if no latencies
};

struct BenchReport {
  std::string model_path, quantized_engine, libtorch_version;
  std::string kernels;  // .tflite: its convolutions' host kernels; native fp32: the float kernels; else ""
  ModelKind model_kind = ModelKind::kTorchScript;
  double ops_per_image = 0;  // 2 x the model's multiply-accumulates per image
  bool integer = false;      // int8 arithmetic (GOP/s) or float (GFLOP/s)
  std::uintmax_t model_bytes = 0;
  int repeats = 0;
  int64_t images = 0;
  std::vector<BenchResult> results;
  int64_t peak_rss_bytes = 0;       // of the whole process, at the end
  std::vector<OpProfile> profiles;  // filled by the caller when asked (resnet8-bench --profile)

  const BenchResult* best() const;  // highest median images/s
};

// `images`: uint8 NHWC [N, 32, 32, 3] (N >= the largest batch size).
BenchReport benchmark(const Classifier& classifier, const at::Tensor& images, const BenchOptions& options);

std::string to_table(const BenchReport& report);

}  // namespace resnet8
