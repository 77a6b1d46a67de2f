#pragma once
// CIFAR-10, binary version (cifar-10-batches-bin/): records of 1 label byte followed by the
// 32x32 image as 1024 red, 1024 green and 1024 blue bytes (row-major planes).
#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <string_view>
#include <vector>

namespace resnet8::cifar10 {

inline constexpr int64_t kImageSize = 32;
inline constexpr int64_t kChannels = 3;
inline constexpr int64_t kNumClasses = 10;
inline constexpr int64_t kRecordBytes = 1 + kChannels * kImageSize * kImageSize;  // 3073
inline constexpr int64_t kImagesPerBatch = 10000;

inline constexpr std::array<std::string_view, kNumClasses> kClassNames = {
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};

// Images as uint8 NHWC [N, 32, 32, 3] (the model's layout) and labels as int64 [N].
struct Dataset {
  at::Tensor images;
  at::Tensor labels;
  int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
};

enum class Split { kTrain, kTest };

// How many records a batch file must hold: exactly kImagesPerBatch, as every official file does (a batch
// cut at a record boundary is refused, not evaluated as a smaller test set), or any whole number of
// records up to 100,000 (a subset of one's own; the tools' --partial-data).
enum class Records { kOfficial, kAnyCount };

// Reads one batch file; at most `limit` records when limit >= 0. Throws resnet8::Error naming the
// file (and the record) when the file is missing or not a regular file, its size is not what `records`
// allows, or a label is greater than 9.
Dataset read_batch_file(const std::filesystem::path& file, int64_t limit = -1, Records records = Records::kOfficial);

// The files of a split: test_batch.bin, or data_batch_1..5.bin in order.
std::vector<std::filesystem::path> batch_files(const std::filesystem::path& dir, Split split);

// The test split (test_batch.bin) or the training split (data_batch_1..5.bin, in order) of dir.
Dataset read_split(const std::filesystem::path& dir, Split split, int64_t limit = -1,
                   Records records = Records::kOfficial);

// uint8 NHWC images -> float32 NHWC with raw 0..255 values: the input every ResNet8 file takes.
at::Tensor to_model_input(const at::Tensor& images);

}  // namespace resnet8::cifar10
