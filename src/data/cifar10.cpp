#include <resnet8/data/cifar10.h>

#include <resnet8/support/error.h>
#include <resnet8/support/input_file.h>

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

namespace fs = std::filesystem;

namespace resnet8::cifar10 {
namespace {

constexpr int64_t kPixels = kImageSize * kImageSize;
constexpr int64_t kMaxRecordsPerFile = 10 * kImagesPerBatch;

std::vector<uint8_t> read_records(const fs::path& file, int64_t limit, Records allowed) {
  const auto bytes = static_cast<int64_t>(input_file_size(file, "CIFAR-10 batch file"));
  if (allowed == Records::kOfficial && bytes != kImagesPerBatch * kRecordBytes) {
    const std::string count = bytes % kRecordBytes == 0 ? fmt::format("{} records", bytes / kRecordBytes)
                                                        : fmt::format("{:.1f} records", double(bytes) / kRecordBytes);
    throw Error(
        fmt::format("{}: {} bytes = {}; an official CIFAR-10 batch file holds exactly {} records of {} bytes "
                    "(the tools take other counts with --partial-data)",
                    file.string(), bytes, count, kImagesPerBatch, kRecordBytes));
  }
  if (bytes == 0 || bytes % kRecordBytes != 0) {
    throw Error(fmt::format("{}: size {} bytes is not a positive multiple of the {}-byte CIFAR-10 record",
                            file.string(), bytes, kRecordBytes));
  }
  int64_t records = bytes / kRecordBytes;
  if (limit >= 0 && limit < records) records = limit;
  // A batch holds 10,000 records; a (possibly sparse) file of many more is no CIFAR-10 batch, and
  // reading it whole would exhaust memory.
  if (records > kMaxRecordsPerFile) {
    throw Error(fmt::format("{}: {} records; a CIFAR-10 batch file has {} (limit {})", file.string(), records,
                            kImagesPerBatch, kMaxRecordsPerFile));
  }
  std::vector<uint8_t> raw(static_cast<size_t>(records * kRecordBytes));
  std::ifstream in(file, std::ios::binary);
  if (!in.read(reinterpret_cast<char*>(raw.data()), static_cast<std::streamsize>(raw.size()))) {
    throw Error(fmt::format("{}: cannot read ({})", file.string(), std::strerror(errno)));
  }
  return raw;
}

}  // namespace

Dataset read_batch_file(const fs::path& file, int64_t limit, Records records) {
  const std::vector<uint8_t> raw = read_records(file, limit, records);
  const int64_t n = static_cast<int64_t>(raw.size()) / kRecordBytes;
  at::Tensor images = at::empty({n, kImageSize, kImageSize, kChannels}, at::kByte);
  at::Tensor labels = at::empty({n}, at::kLong);
  uint8_t* img = images.data_ptr<uint8_t>();
  int64_t* lab = labels.data_ptr<int64_t>();
  for (int64_t r = 0; r < n; ++r) {
    const uint8_t* rec = raw.data() + r * kRecordBytes;
    if (rec[0] >= kNumClasses) {
      throw Error(fmt::format("{}: record {} has label {}; labels are 0..9", file.string(), r, rec[0]));
    }
    lab[r] = rec[0];
    const uint8_t* red = rec + 1;
    const uint8_t* green = red + kPixels;
    const uint8_t* blue = green + kPixels;
    uint8_t* out = img + r * kPixels * kChannels;
    for (int64_t p = 0; p < kPixels; ++p) {  // CHW planes -> HWC
      out[3 * p] = red[p];
      out[3 * p + 1] = green[p];
      out[3 * p + 2] = blue[p];
    }
  }
  return {images, labels};
}

std::vector<fs::path> batch_files(const fs::path& dir, Split split) {
  if (split == Split::kTest) return {dir / "test_batch.bin"};
  std::vector<fs::path> files;
  for (int k = 1; k <= 5; ++k) files.push_back(dir / fmt::format("data_batch_{}.bin", k));
  return files;
}

Dataset read_split(const fs::path& dir, Split split, int64_t limit, Records records) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw Error(
        fmt::format("{}: CIFAR-10 directory not found (expected cifar-10-batches-bin/; "
                    "scripts/fetch_data.py creates it)",
                    dir.string()));
  }
  const auto files = batch_files(dir, split);
  if (split == Split::kTest) return read_batch_file(files.front(), limit, records);

  std::vector<at::Tensor> images, labels;
  int64_t remaining = limit;
  for (size_t k = 0; k < files.size() && (k == 0 || remaining != 0); ++k) {
    Dataset part = read_batch_file(files[k], remaining, records);
    if (remaining > 0) remaining -= part.size();
    images.push_back(part.images);
    labels.push_back(part.labels);
  }
  return {at::cat(images), at::cat(labels)};
}

// A plain loop, not images.to(at::kFloat): ATen runs that copy as an OpenMP parallel region from 32,768 values up,
// after which LibTorch's OpenMP threads spin, taking a core from the runners with threads of their own (a
// .tflite, fp32 --native): 2,787 against 7,149 images/s at batch 32 on two cores (docs/RESULTS.md).
at::Tensor to_model_input(const at::Tensor& images) {
  if (images.scalar_type() != at::kByte) return images.to(at::kFloat);
  const at::Tensor in = images.contiguous();
  at::Tensor out = at::empty(in.sizes(), at::kFloat);
  const uint8_t* from = in.data_ptr<uint8_t>();
  float* to = out.data_ptr<float>();
  for (int64_t i = 0, n = in.numel(); i < n; ++i) to[i] = static_cast<float>(from[i]);
  return out;
}

}  // namespace resnet8::cifar10
