#include <resnet8/data/calibration.h>

#include <resnet8/support/error.h>

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <random>

namespace resnet8 {

std::vector<int64_t> select_calibration(const at::Tensor& labels, int64_t per_class, uint64_t seed) {
  if (per_class < 1) throw Error(fmt::format("calibration images per class must be >= 1, got {}", per_class));
  const at::Tensor l = labels.contiguous();
  const int64_t* lab = l.data_ptr<int64_t>();
  std::vector<std::vector<int64_t>> by_class(cifar10::kNumClasses);
  for (int64_t i = 0; i < l.numel(); ++i) by_class.at(lab[i]).push_back(i);

  std::mt19937_64 rng(seed);
  std::vector<int64_t> chosen;
  for (int64_t c = 0; c < cifar10::kNumClasses; ++c) {
    auto& idx = by_class[c];
    if (static_cast<int64_t>(idx.size()) < per_class) {
      throw Error(
          fmt::format("asked for {} calibration images per class but class {} ({}) has only {} "
                      "training images",
                      per_class, c, cifar10::kClassNames[c], idx.size()));
    }
    for (size_t i = idx.size() - 1; i > 0; --i) std::swap(idx[i], idx[rng() % (i + 1)]);
    chosen.insert(chosen.end(), idx.begin(), idx.begin() + per_class);
  }
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

cifar10::Dataset calibration_set(const std::filesystem::path& data_dir, int64_t per_class, uint64_t seed,
                                 std::vector<int64_t>* indices, cifar10::Records records) {
  const cifar10::Dataset train = cifar10::read_split(data_dir, cifar10::Split::kTrain, -1, records);
  const std::vector<int64_t> chosen = select_calibration(train.labels, per_class, seed);
  if (indices) *indices = chosen;
  const at::Tensor index = at::tensor(chosen, at::kLong);
  return {train.images.index_select(0, index), train.labels.index_select(0, index)};
}

}  // namespace resnet8
