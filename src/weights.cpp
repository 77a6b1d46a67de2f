#include <resnet8/weights.h>

#include <resnet8/error.h>
#include <resnet8/model.h>

#include <caffe2/serialize/inline_container.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/csrc/jit/api/compilation_unit.h>
#include <torch/csrc/jit/serialization/import_read.h>
#include <torch/torch.h>

#include <vector>

namespace fs = std::filesystem;

namespace resnet8 {
namespace {

std::string shape_str(at::IntArrayRef sizes) { return fmt::format("[{}]", fmt::join(sizes, ", ")); }

std::string describe(const at::Tensor& t) {
  return fmt::format("{} {}", c10::toString(t.scalar_type()), shape_str(t.sizes()));
}

void collect(const c10::IValue& value, const std::string& path, NamedTensors& out) {
  if (value.isTensor()) {
    out.emplace(path, value.toTensor());
  } else if (value.isObject()) {
    const auto object = value.toObject();
    const auto type = object->type();
    for (size_t i = 0; i < type->numAttributes(); ++i) {
      const std::string& name = type->getAttributeName(i);
      collect(object->getSlot(i), path.empty() ? name : path + "." + name, out);
    }
  }
}

}  // namespace

NamedTensors read_torchscript_tensors(const fs::path& file) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) throw Error(fmt::format("{}: model file not found", file.string()));

  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader;
  try {
    reader = std::make_unique<caffe2::serialize::PyTorchStreamReader>(file.string());
  } catch (const c10::Error&) {
    throw Error(fmt::format("{}: not a TorchScript file (not a PyTorch zip archive)", file.string()));
  }
  if (!reader->hasRecord("data.pkl") || !reader->hasRecord("constants.pkl")) {
    throw Error(fmt::format("{}: not a TorchScript module (no data.pkl/constants.pkl in the archive)",
                            file.string()));
  }

  // Classes are resolved to empty types of our own: the file's code/ is never compiled or run.
  auto unit = std::make_shared<torch::jit::CompilationUnit>();
  size_t objects = 0;
  auto resolve_type = [&](const c10::QualifiedName& name) {
    return c10::StrongTypePtr(unit, c10::ClassType::create(name, unit));
  };
  auto load_object = [&](const c10::StrongTypePtr& type, c10::IValue state) {
    if (!state.isGenericDict()) {
      throw Error(fmt::format("{}: object of class {} has custom (__setstate__) state; a weights file "
                              "holds plain modules only", file.string(), type.type_->str()));
    }
    const auto dict = state.toGenericDict();
    auto cls = c10::ClassType::create(
        c10::QualifiedName(fmt::format("{}_{}", type.type_->str(), objects++)), unit);
    for (const auto& item : dict) cls->addAttribute(item.key().toStringRef(), item.value().type());
    auto object = c10::ivalue::Object::create(c10::StrongTypePtr(unit, cls), dict.size());
    size_t slot = 0;
    for (const auto& item : dict) object->setSlot(slot++, item.value());
    return object;
  };

  c10::IValue root;
  try {
    root = torch::jit::readArchiveAndTensors("data", "", "", resolve_type, load_object, at::kCPU, *reader);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    const std::string what = e.what();
    throw Error(fmt::format("{}: cannot read the module's data.pkl ({})", file.string(),
                            what.substr(0, what.find('\n'))));
  }
  NamedTensors tensors;
  collect(root, "", tensors);
  return tensors;
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
    throw Error(fmt::format("{}: weights do not match {} ({} problem{}):\n  {}", source, module.name(),
                            problems.size(), problems.size() == 1 ? "" : "s", fmt::join(problems, "\n  ")));
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
