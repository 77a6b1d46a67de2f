#pragma once
// The calibration set: a stratified, seeded, deterministic sample of the CIFAR-10 training batches.
//
// Selection rule (identical on every machine): for each class c = 0..9 in turn, the indices of the
// training images labelled c (data_batch_1..5 in file order, 0..49999) are shuffled by a
// Fisher-Yates pass driven by std::mt19937_64 seeded with `seed` (one generator for all classes,
// j = rng() % (i + 1) for i from n-1 down to 1), and the first `per_class` are kept. The chosen
// indices are returned in ascending order. Never the test set.
#include <resnet8/data/cifar10.h>

#include <cstdint>
#include <filesystem>
#include <vector>

namespace resnet8 {

// Indices into `labels` per the rule above. Throws resnet8::Error if a class has fewer than
// `per_class` images.
std::vector<int64_t> select_calibration(const at::Tensor& labels, int64_t per_class, uint64_t seed);

// The calibration images themselves, read from the training batches of `data_dir`; their indices
// in the training split go to `indices` when given.
cifar10::Dataset calibration_set(const std::filesystem::path& data_dir, int64_t per_class, uint64_t seed,
                                 std::vector<int64_t>* indices = nullptr,
                                 cifar10::Records records = cifar10::Records::kOfficial);

}  // namespace resnet8
