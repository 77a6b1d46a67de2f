#include <resnet8/quantized_file.h>

#include <resnet8/atomic_file.h>
#include <resnet8/error.h>

#include <caffe2/serialize/inline_container.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/script.h>

#include <memory>

namespace fs = std::filesystem;

namespace resnet8 {

void save_quantized(const torch::jit::Module& module, const std::string& engine, const std::string& metadata,
                    const fs::path& file) {
  const torch::jit::ExtraFilesMap extra = {{kMetadataRecord, metadata}, {kEngineRecord, engine}};
  write_file_atomic(file, [&](const fs::path& tmp) {
    try {
      module.save(tmp.string(), extra);
    } catch (const c10::Error& e) {
      throw Error(fmt::format("{}: cannot write ({})", file.string(), e.what_without_backtrace()));
    }
  });
}

namespace {

// The record extra/<name> of a TorchScript archive, or nothing when it has none.
std::optional<std::string> extra_record(const fs::path& file, const std::string& name) {
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader;
  try {
    reader = std::make_unique<caffe2::serialize::PyTorchStreamReader>(file.string());
  } catch (const c10::Error&) {
    throw Error(fmt::format("{}: not a TorchScript file (not a PyTorch zip archive)", file.string()));
  }
  const std::string record = "extra/" + name;
  if (!reader->hasRecord(record)) return std::nullopt;
  const auto [data, size] = reader->getRecord(record);
  return std::string(static_cast<const char*>(data.get()), size);
}

}  // namespace

std::string recorded_engine(const fs::path& file) { return extra_record(file, kEngineRecord).value_or(""); }

std::optional<Int8Scheme> recorded_scheme(const fs::path& file) {
  const auto text = extra_record(file, kMetadataRecord);
  if (!text) return std::nullopt;
  const auto metadata = nlohmann::json::parse(*text, nullptr, false);
  if (!metadata.is_object() || !metadata.value("reduce_range", nlohmann::json()).is_boolean()) {
    throw Error(fmt::format("{}: its {} record is not the metadata resnet8-ptq writes", file.string(), kMetadataRecord));
  }
  Int8Scheme scheme{8, metadata["reduce_range"].get<bool>()};  // files before weight_bits: 8-bit weights
  if (const auto bits = metadata.value("weight_bits", nlohmann::json()); bits.is_number_integer()) {
    scheme.weight_bits = bits.get<int>();
    if (scheme.weight_bits < 2 || scheme.weight_bits > 8) {
      throw Error(fmt::format("{}: records {}-bit weights; expected 2..8", file.string(), scheme.weight_bits));
    }
  }
  return scheme;
}

}  // namespace resnet8
