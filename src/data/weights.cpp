#include <resnet8/data/archive.h>
#include <resnet8/data/weights.h>

#include <resnet8/model/model.h>
#include <resnet8/support/error.h>
#include <resnet8/support/input_file.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include <vector>

namespace fs = std::filesystem;

namespace resnet8 {
namespace {

std::string shape_str(at::IntArrayRef sizes) { return fmt::format("[{}]", fmt::join(sizes, ", ")); }

std::string describe(const at::Tensor& t) {
  return fmt::format("{} {}", c10::toString(t.scalar_type()), shape_str(t.sizes()));
}

}  // namespace

NamedTensors read_torchscript_tensors(const fs::path& file, bool tuple_state) {
  input_file_size(file, "model file");
  return TorchScriptArchive(file).tensors(tuple_state);
}

void load_weights(torch::nn::Module& module, const NamedTensors& tensors, const std::string& source) {
  std::vector<std::pair<torch::Tensor, const at::Tensor*>> copies;
  std::vector<std::string> problems;
  std::set<std::string> used;

  auto check = [&](const std::string& name, const torch::Tensor& target) {
    const auto found = tensors.find(name);
    if (found == tensors.end()) {
      problems.push_back(fmt::format("missing tensor '{}' (expected {})", name, describe(target)));
      return;
    }
    used.insert(name);
    const at::Tensor& t = found->second;
    if (t.scalar_type() != target.scalar_type() || !t.sizes().equals(target.sizes())) {
      problems.push_back(fmt::format("tensor '{}': expected {}, found {}", name, describe(target), describe(t)));
    } else if (t.is_floating_point() && !t.isfinite().all().item<bool>()) {
      problems.push_back(fmt::format("tensor '{}': contains NaN or infinite values", name));
    } else {
      copies.emplace_back(target, &t);
    }
  };
  for (const auto& item : module.named_parameters(/*recurse=*/true)) check(item.key(), item.value());
  for (const auto& item : module.named_buffers(/*recurse=*/true)) check(item.key(), item.value());
  for (const auto& [name, t] : tensors) {
    if (!used.count(name)) problems.push_back(fmt::format("unexpected tensor '{}' ({})", name, describe(t)));
  }
  if (!problems.empty()) {
    // One line: the first few problems, then how many more.
    constexpr size_t kShown = 3;
    const size_t shown = std::min(problems.size(), kShown);
    throw Error(fmt::format("{}: weights do not match {} ({} problem{}): {}{}", source, module.name(), problems.size(),
                            problems.size() == 1 ? "" : "s",
                            fmt::join(problems.begin(), problems.begin() + static_cast<std::ptrdiff_t>(shown), "; "),
                            problems.size() > shown ? fmt::format("; and {} more", problems.size() - shown) : ""));
  }
  torch::NoGradGuard no_grad;
  for (auto& [target, src] : copies) target.copy_(*src);
}

ResNet8 load_resnet8(const fs::path& file) {
  ResNet8 model;
  load_weights(*model, read_torchscript_tensors(file), file.string());
  model->eval();
  return model;
}

}  // namespace resnet8
