// A TorchScript archive read as data (archive.h).
#include <resnet8/data/archive.h>
#include <resnet8/support/error.h>

#include "data/pickle_check.h"

#include <caffe2/serialize/file_adapter.h>
#include <caffe2/serialize/inline_container.h>
#include <fmt/format.h>
#include <torch/csrc/jit/api/compilation_unit.h>
#include <torch/csrc/jit/serialization/import_read.h>
#include <torch/csrc/jit/serialization/storage_context.h>

namespace fs = std::filesystem;

namespace resnet8 {
namespace {

// Limits far above what a ResNet8 export needs (5 levels of modules, 42 tensors, ~370 KB), far below
// what could exhaust the stack or memory on a hostile file.
constexpr int kMaxDepth = 64;
constexpr size_t kMaxRecords = 10000;
constexpr size_t kMaxArchiveBytes = 256000000;
// data.pkl of the export is 4.5 kB. 256 kB bounds the nesting a pickle can encode to ~10,000 levels,
// whose recursive destruction still fits on the stack (a 2.5 MB pickle nested 100,000 deep did not).
constexpr size_t kMaxPickleBytes = 256000;

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
      throw Error(fmt::format("{}: more than {} MB uncompressed; not a ResNet8 export", file.string(),
                              kMaxArchiveBytes / 1000000));
    }
  }
}

}  // namespace

TorchScriptArchive::TorchScriptArchive(const fs::path& file) : file_(file) {
  try {
    adapter_ = std::make_shared<caffe2::serialize::FileAdapter>(file.string());
    reader_ = std::make_unique<caffe2::serialize::PyTorchStreamReader>(adapter_);
  } catch (const std::exception&) {
    throw Error(fmt::format("{}: not a TorchScript file (not a PyTorch zip archive)", file.string()));
  }
}

TorchScriptArchive::~TorchScriptArchive() = default;

std::optional<std::string> TorchScriptArchive::record(const std::string& name) const {
  try {
    if (!reader_->hasRecord(name)) return std::nullopt;
    const auto [data, size] = reader_->getRecord(name);
    return std::string(static_cast<const char*>(data.get()), size);
  } catch (const std::exception& e) {
    throw Error(fmt::format("{}: damaged TorchScript archive ({})", file_.string(), one_line_reason(e)));
  }
}

std::vector<std::string> TorchScriptArchive::records() const {
  try {
    return reader_->getAllRecords();
  } catch (const std::exception& e) {
    throw Error(fmt::format("{}: damaged TorchScript archive ({})", file_.string(), one_line_reason(e)));
  }
}

// A damaged zip directory makes LibTorch's reader throw from any call (the fuzzer found getAllRecords);
// every such error names the file.
NamedTensors TorchScriptArchive::tensors(bool tuple_state) const {
  try {
    check_archive_size(*reader_, file_);
    if (!reader_->hasRecord("data.pkl") || !reader_->hasRecord("constants.pkl")) {
      throw Error(
          fmt::format("{}: not a TorchScript module (no data.pkl/constants.pkl in the archive)", file_.string()));
    }
    if (const size_t bytes = reader_->getRecordSize("data.pkl"); bytes > kMaxPickleBytes) {
      throw Error(fmt::format("{}: data.pkl is {} bytes; a ResNet8 export's is a few kB (limit {} kB)", file_.string(),
                              bytes, kMaxPickleBytes / 1000));
    }
    const auto [pickle, bytes] = reader_->getRecord("data.pkl");
    if (const std::string problem = detail::pickle_problem(static_cast<const char*>(pickle.get()), bytes);
        !problem.empty()) {
      throw Error(fmt::format("{}: data.pkl is not a valid pickle ({})", file_.string(), problem));
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(fmt::format("{}: damaged TorchScript archive ({})", file_.string(), one_line_reason(e)));
  }
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
                      file_.string(), type.type_->str()));
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
    root = torch::jit::readArchiveAndTensors("data", "", "", resolve_type, load_object, at::kCPU, *reader_,
                                             torch::jit::Unpickler::defaultTypeParser, storages_as_recorded(*reader_));
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(fmt::format("{}: cannot read the module's data.pkl ({})", file_.string(), one_line_reason(e)));
  }
  NamedTensors tensors;
  collect(root, "", 0, file_, tensors);
  return tensors;
}

}  // namespace resnet8
