#pragma once
// Batched inference of a classifier over a dataset under torch::InferenceMode.
#include <resnet8/data/cifar10.h>
#include <resnet8/run/classifier.h>
#include <resnet8/run/report.h>

#include <cstdint>
#include <functional>

namespace resnet8 {

struct EvalOptions {
  int64_t batch_size = 1000;
  int threads = 0;           // intra-op threads for at::set_num_threads; 0 = one per hardware thread
  bool keep_scores = false;  // keep every image's scores in EvalReport::scores
  // Called after each batch with (images done, images in total).
  std::function<void(int64_t, int64_t)> on_progress;
};

// The thread count `threads` resolves to (0 -> std::thread::hardware_concurrency()).
int resolve_threads(int threads);

// Sets the LibTorch thread count, then classifies every image of `data`. The report's model and
// data fields are filled from `classifier`; data_dir is left for the caller.
EvalReport evaluate(const Classifier& classifier, const cifar10::Dataset& data, const EvalOptions& options);

}  // namespace resnet8
