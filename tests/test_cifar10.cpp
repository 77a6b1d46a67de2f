#include "testing.h"

#include <resnet8/data/cifar10.h>

#include <sys/stat.h>

#include <fstream>

namespace cifar10 = resnet8::cifar10;
using resnet8::testing::error_of;
using resnet8::testing::TempDir;
constexpr auto kAny = cifar10::Records::kAnyCount;

namespace {

// Record r of a synthetic batch: label `label`, red = (r + p) % 256, green = 100, blue = 200 - r.
std::string record(int r, uint8_t label) {
  std::string rec(cifar10::kRecordBytes, '\0');
  rec[0] = static_cast<char>(label);
  for (int p = 0; p < 1024; ++p) {
    rec[1 + p] = static_cast<char>((r + p) % 256);
    rec[1 + 1024 + p] = static_cast<char>(100);
    rec[1 + 2048 + p] = static_cast<char>(200 - r);
  }
  return rec;
}

void write(const std::filesystem::path& file, const std::string& bytes) {
  std::ofstream(file, std::ios::binary) << bytes;
}

std::string batch(int records, int first_label = 0) {
  std::string out;
  for (int r = 0; r < records; ++r) out += record(r, static_cast<uint8_t>((first_label + r) % 10));
  return out;
}

}  // namespace

TEST_CASE("a batch file is read into NHWC uint8 images and int64 labels") {
  TempDir dir;
  write(dir / "b.bin", batch(3, 7));
  const auto data = cifar10::read_batch_file(dir / "b.bin", -1, kAny);
  REQUIRE(data.size() == 3);
  CHECK((data.images.sizes() == torch::IntArrayRef{3, 32, 32, 3}));
  CHECK((data.images.scalar_type() == torch::kByte));
  CHECK((data.labels.scalar_type() == torch::kLong));
  CHECK(data.labels[0].item<int64_t>() == 7);
  CHECK(data.labels[2].item<int64_t>() == 9);
  // Image 2, row 1, column 5 is pixel p = 37 of each plane.
  CHECK(data.images[2][1][5][0].item<int>() == (2 + 37) % 256);
  CHECK(data.images[2][1][5][1].item<int>() == 100);
  CHECK(data.images[2][1][5][2].item<int>() == 198);
  CHECK((cifar10::to_model_input(data.images).scalar_type() == torch::kFloat));
  CHECK(cifar10::to_model_input(data.images)[2][1][5][2].item<float>() == 198.0f);
}

TEST_CASE("limit reads only the first records") {
  TempDir dir;
  write(dir / "b.bin", batch(5));
  CHECK(cifar10::read_batch_file(dir / "b.bin", 2, kAny).size() == 2);
  CHECK(cifar10::read_batch_file(dir / "b.bin", 0, kAny).size() == 0);
  CHECK(cifar10::read_batch_file(dir / "b.bin", 99, kAny).size() == 5);
}

TEST_CASE("a truncated file is refused, naming the file and the record size") {
  TempDir dir;
  write(dir / "short.bin", batch(2).substr(0, 2 * 3073 - 1));
  const std::string msg = error_of([&] { cifar10::read_batch_file(dir / "short.bin", -1, kAny); });
  CHECK(msg.find("short.bin") != std::string::npos);
  CHECK(msg.find("not a positive multiple of the 3073-byte") != std::string::npos);
  write(dir / "empty.bin", "");
  CHECK(error_of([&] { cifar10::read_batch_file(dir / "empty.bin", -1, kAny); }).find("empty.bin") !=
        std::string::npos);
}

TEST_CASE("a label above 9 is refused, naming the record") {
  TempDir dir;
  write(dir / "bad.bin", record(0, 3) + record(1, 10));
  const std::string msg = error_of([&] { cifar10::read_batch_file(dir / "bad.bin", -1, kAny); });
  CHECK(msg.find("bad.bin: record 1 has label 10") != std::string::npos);
}

TEST_CASE("the training split is data_batch_1..5 in order; a missing batch is named") {
  TempDir dir;
  for (int k = 1; k <= 5; ++k) write(dir / ("data_batch_" + std::to_string(k) + ".bin"), batch(2, k));
  const auto train = cifar10::read_split(dir.path(), cifar10::Split::kTrain, -1, kAny);
  REQUIRE(train.size() == 10);
  CHECK(torch::equal(train.labels, torch::tensor({1, 2, 2, 3, 3, 4, 4, 5, 5, 6}, torch::kLong)));
  CHECK(cifar10::read_split(dir.path(), cifar10::Split::kTrain, 3, kAny).size() == 3);
  CHECK(cifar10::read_split(dir.path(), cifar10::Split::kTrain, 0, kAny).size() == 0);

  std::filesystem::remove(dir / "data_batch_3.bin");
  CHECK(error_of([&] { cifar10::read_split(dir.path(), cifar10::Split::kTrain, -1, kAny); }).find("data_batch_3.bin") !=
        std::string::npos);
  CHECK(error_of([&] { cifar10::read_split(dir.path(), cifar10::Split::kTest, -1, kAny); }).find("test_batch.bin") !=
        std::string::npos);
  CHECK(error_of([&] { cifar10::read_split(dir / "nowhere", cifar10::Split::kTest); }).find("nowhere") !=
        std::string::npos);
}

TEST_CASE(
    "an official batch holds exactly 10,000 records: one cut at a record boundary is refused, whatever the limit") {
  TempDir dir;
  write(dir / "full.bin", batch(10000));
  CHECK(cifar10::read_batch_file(dir / "full.bin").size() == 10000);
  CHECK(cifar10::read_batch_file(dir / "full.bin", 10).size() == 10);
  write(dir / "cut.bin", batch(5000));
  const std::string msg = error_of([&] { cifar10::read_batch_file(dir / "cut.bin", 10); });
  CHECK(msg.find("cut.bin: 15365000 bytes = 5000 records; an official CIFAR-10 batch file holds exactly 10000") !=
        std::string::npos);
  CHECK(msg.find("--partial-data") != std::string::npos);
  CHECK(cifar10::read_batch_file(dir / "cut.bin", -1, kAny).size() == 5000);
}

TEST_CASE("a directory or a FIFO in place of a batch file is named as what it is") {
  TempDir dir;
  std::filesystem::create_directory(dir / "test_batch.bin");
  CHECK(error_of([&] {
          cifar10::read_batch_file(dir / "test_batch.bin");
        }).find("test_batch.bin: is a directory; expected a CIFAR-10 batch file") != std::string::npos);
  REQUIRE(mkfifo((dir / "fifo.bin").c_str(), 0600) == 0);
  CHECK(error_of([&] { cifar10::read_batch_file(dir / "fifo.bin"); }).find("fifo.bin: is a FIFO (named pipe)") !=
        std::string::npos);
  CHECK(error_of([&] {
          cifar10::read_batch_file(dir / "missing.bin");
        }).find("missing.bin: CIFAR-10 batch file not found") != std::string::npos);
}
