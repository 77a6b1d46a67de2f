#include <resnet8/data/weights.h>

#include "data/pickle_check.h"

#include <resnet8/model/model.h>
#include <resnet8/support/error.h>
#include <resnet8/support/input_file.h>

#include <caffe2/serialize/inline_container.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/csrc/jit/api/compilation_unit.h>
#include <torch/csrc/jit/serialization/import_read.h>
#include <torch/csrc/jit/serialization/storage_context.h>
#include <torch/torch.h>

#include <vector>

namespace fs = std::filesystem;

namespace resnet8 {
namespace {

std::string shape_str(at::IntArrayRef sizes) { return fmt::format("[{}]", fmt::join(sizes, ", ")); }

std::string describe(const at::Tensor& t) {
  return fmt::format("{} {}", c10::toString(t.scalar_type()), shape_str(t.sizes()));
}

// Limits far above what a ResNet8 export needs (5 levels of modules, 42 tensors, ~370 KB), far below
// what could exhaust the stack or memory on a hostile file.
constexpr int kMaxDepth = 64;
constexpr size_t kMaxRecords = 10000;
constexpr size_t kMaxArchiveBytes = size_t{256} << 20;
// data.pkl of the export is 4.5 KB. 256 KiB bounds the nesting a pickle can encode to ~10,000 levels,
// whose recursive destruction still fits on the stack (a 2.5 MB pickle nested 100,000 deep did not).
constexpr size_t kMaxPickleBytes = size_t{256} << 10;

// Whether every element the tensor's sizes, strides and offset can address lies inside its storage.
bool storage_covers(const at::Tensor& t) {
  if (t.numel() == 0) return t.storage_offset() >= 0;
  int64_t last = t.storage_offset();
  if (last < 0) return false;
  for (int64_t d = 0; d < t.dim(); ++d) {
    if (t.stride(d) < 0) return false;
    last += (t.size(d) - 1) * t.stride(d);
  }
  const auto bytes = static_cast<int64_t>(t.storage().nbytes());
  return last < bytes / static_cast<int64_t>(t.element_size());
}

void collect(const c10::IValue& value, const std::string& path, int depth, const fs::path& file, NamedTensors& out) {
  if (depth > kMaxDepth) {
    throw Error(fmt::format("{}: objects nested deeper than {} levels (at '{}'); not a model export", file.string(),
                            kMaxDepth, path.substr(0, 200)));
  }
  if (value.isTensor()) {
    const at::Tensor& t = value.toTensor();
    if (!storage_covers(t)) {
      throw Error(fmt::format("{}: tensor '{}' ({} elements) reaches past the end of its storage record ({} bytes)",
                              file.string(), path, t.numel(), t.storage().nbytes()));
    }
    out.emplace(path, t);
  } else if (value.isObject()) {
    const auto object = value.toObject();
    const auto type = object->type();
    for (size_t i = 0; i < type->numAttributes(); ++i) {
      const std::string& name = type->getAttributeName(i);
      collect(object->getSlot(i), path.empty() ? name : path + "." + name, depth + 1, file, out);
    }
  }
}

// Every data/<key> record as a storage of exactly the record's size. LibTorch's unpickler would
// otherwise size a storage by the element count the pickle claims, over a buffer of the record's
// size: a short record then reads past its end. collect() checks each tensor against these sizes.
std::shared_ptr<torch::jit::DeserializationStorageContext> storages_as_recorded(
    caffe2::serialize::PyTorchStreamReader& reader) {
  auto context = std::make_shared<torch::jit::DeserializationStorageContext>();
  for (const auto& name : reader.getAllRecords()) {
    if (name.rfind("data/", 0) != 0 || name.find('/', 5) != std::string::npos) continue;
    auto [data, bytes] = reader.getRecord(name);
    context->addStorage(name.substr(5), at::Storage(c10::Storage::use_byte_size_t(), bytes, std::move(data), nullptr,
                                                    /*resizable=*/false));
  }
  return context;
}

// Refuses archives with more records or more (uncompressed) bytes than any model export here has.
void check_archive_size(caffe2::serialize::PyTorchStreamReader& reader, const fs::path& file) {
  const auto records = reader.getAllRecords();
  if (records.size() > kMaxRecords) {
    throw Error(fmt::format("{}: {} records in the archive; a model export has far fewer (limit {})", file.string(),
                            records.size(), kMaxRecords));
  }
  size_t total = 0;
  for (const auto& name : records) {
    total += reader.getRecordSize(name);
    if (total > kMaxArchiveBytes) {
      throw Error(fmt::format("{}: more than {} MiB uncompressed; not a ResNet8 export", file.string(),
                              kMaxArchiveBytes >> 20));
    }
  }
}

// The archive, checked against the limits above. A damaged zip directory makes LibTorch's reader throw
// from any call (the fuzzer found getAllRecords); every such error names the file.
std::unique_ptr<caffe2::serialize::PyTorchStreamReader> open_archive(const fs::path& file) {
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader;
  try {
    reader = std::make_unique<caffe2::serialize::PyTorchStreamReader>(file.string());
  } catch (const std::exception&) {
    throw Error(fmt::format("{}: not a TorchScript file (not a PyTorch zip archive)", file.string()));
  }
  try {
    check_archive_size(*reader, file);
    if (!reader->hasRecord("data.pkl") || !reader->hasRecord("constants.pkl")) {
      throw Error(
          fmt::format("{}: not a TorchScript module (no data.pkl/constants.pkl in the archive)", file.string()));
    }
    if (const size_t bytes = reader->getRecordSize("data.pkl"); bytes > kMaxPickleBytes) {
      throw Error(fmt::format("{}: data.pkl is {} bytes; a ResNet8 export's is a few KB (limit {} KiB)", file.string(),
                              bytes, kMaxPickleBytes >> 10));
    }
    const auto [pickle, bytes] = reader->getRecord("data.pkl");
    if (const std::string problem = detail::pickle_problem(static_cast<const char*>(pickle.get()), bytes);
        !problem.empty()) {
      throw Error(fmt::format("{}: data.pkl is not a valid pickle ({})", file.string(), problem));
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(fmt::format("{}: damaged TorchScript archive ({})", file.string(), one_line_reason(e)));
  }
  return reader;
}

}  // namespace

NamedTensors read_torchscript_tensors(const fs::path& file, bool tuple_state) {
  input_file_size(file, "model file");

  const auto reader = open_archive(file);

  // Classes are resolved to empty types of our own: the file's code/ is never compiled or run.
  auto unit = std::make_shared<torch::jit::CompilationUnit>();
  size_t objects = 0;
  auto resolve_type = [&](const c10::QualifiedName& name) {
    return c10::StrongTypePtr(unit, c10::ClassType::create(name, unit));
  };
  auto load_object = [&](const c10::StrongTypePtr& type, const c10::IValue& state) {
    if (tuple_state && state.isTuple()) {  // an int8 file's flat state: its elements as attributes state0, ...
      const auto& items = state.toTupleRef().elements();
      auto cls = c10::ClassType::create(c10::QualifiedName(fmt::format("{}_{}", type.type_->str(), objects++)), unit);
      for (size_t i = 0; i < items.size(); ++i) cls->addAttribute(fmt::format("state{}", i), items[i].type());
      auto object = c10::ivalue::Object::create(c10::StrongTypePtr(unit, cls), items.size());
      for (size_t i = 0; i < items.size(); ++i) object->setSlot(i, items[i]);
      return object;
    }
    if (!state.isGenericDict()) {
      throw Error(
          fmt::format("{}: object of class {} has custom (__setstate__) state; a weights file "
                      "holds plain modules only",
                      file.string(), type.type_->str()));
    }
    const auto dict = state.toGenericDict();
    auto cls = c10::ClassType::create(c10::QualifiedName(fmt::format("{}_{}", type.type_->str(), objects++)), unit);
    for (const auto& item : dict) cls->addAttribute(item.key().toStringRef(), item.value().type());
    auto object = c10::ivalue::Object::create(c10::StrongTypePtr(unit, cls), dict.size());
    size_t slot = 0;
    for (const auto& item : dict) object->setSlot(slot++, item.value());
    return object;
  };

  c10::IValue root;
  try {
    root = torch::jit::readArchiveAndTensors("data", "", "", resolve_type, load_object, at::kCPU, *reader,
                                             torch::jit::Unpickler::defaultTypeParser, storages_as_recorded(*reader));
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(fmt::format("{}: cannot read the module's data.pkl ({})", file.string(), one_line_reason(e)));
  }
  NamedTensors tensors;
  collect(root, "", 0, file, tensors);
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
