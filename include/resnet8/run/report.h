#pragma once
// The result of evaluating a classifier on CIFAR-10, and its table. Its JSON (stable field names,
// docs/TOOLS.md) is pipeline/json.h's.
#include <resnet8/run/model_kind.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace resnet8 {

struct EvalReport {
  // What ran.
  ModelKind model_kind = ModelKind::kTorchScript;
  std::string model_path;
  std::string quantized_engine;  // "" for a float model
  std::string kernels;           // .tflite: its convolutions' host kernels; native fp32: the float kernels; else ""
  std::uintmax_t model_bytes = 0;
  std::string data_dir;
  std::string libtorch_version;
  int threads = 0;
  int64_t batch_size = 0;
  // What it scored. confusion[true][predicted].
  int64_t images = 0;
  int64_t correct = 0;
  std::array<std::array<int64_t, 10>, 10> confusion{};
  std::vector<uint8_t> predictions;  // predicted class of every image, in dataset order
  std::vector<float> scores;         // with EvalOptions::keep_scores: every image's 10 scores, in order
  // How fast (model input conversion + forward + argmax, excluding file loading).
  double seconds = 0;

  double accuracy() const { return images ? double(correct) / double(images) : 0.0; }
  double images_per_second() const { return seconds > 0 ? double(images) / seconds : 0.0; }
  int64_t class_total(int c) const;
  int64_t class_correct(int c) const { return confusion[c][c]; }
  double class_accuracy(int c) const;  // 0 for a class with no test images
};

std::string to_table(const EvalReport& report);

}  // namespace resnet8
