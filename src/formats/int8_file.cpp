#include <resnet8/formats/int8_file.h>

#include "formats/int8_state.h"

#include <resnet8/data/weights.h>
#include <resnet8/formats/bit_pack.h>
#include <resnet8/model/architecture.h>
#include <resnet8/quant/planner.h>
#include <resnet8/support/atomic_file.h>
#include <resnet8/support/error.h>

#include <caffe2/serialize/inline_container.h>
#include <fmt/format.h>
#include <torch/script.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <memory>
#include <type_traits>

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

namespace {

// Reads a plan's values from the three state tensors, in the order int8_state.h walks them.
class StateReader {
 public:
  StateReader(const fs::path& file, std::vector<int32_t> weights, const at::Tensor& reals, const at::Tensor& ints,
              bool per_channel)
      : file_(file.string()), weights_(std::move(weights)), reals_(reals), ints_(ints), per_channel_(per_channel) {}

  void qparams(const std::string& attr, ActivationPlan& a) {
    a.qparams.scale = take<float>(reals_, r_, 1, attr + " scale")[0];
    a.qparams.zero_point = take<int64_t>(ints_, i_, 1, attr + " zero point")[0];
    if (!(a.qparams.scale > 0) || !std::isfinite(a.qparams.scale) || a.qparams.zero_point < 0 ||
        a.qparams.zero_point > 255) {
      throw Error(fmt::format("{}: {} has scale {} and zero point {}; expected a finite positive scale and 0..255",
                              file_, attr, a.qparams.scale, a.qparams.zero_point));
    }
  }
  void layer(const std::string& attr, LayerPlan& l) {
    const auto out = static_cast<size_t>(l.weight_shape[0]);
    const size_t n = l.weight_count();
    l.bias = take<float>(reals_, r_, out, attr + " bias");
    if (l.kept_float) {
      l.float_weight = take<float>(reals_, r_, n, attr + " weights");
      return;
    }
    if (w_ + n > weights_.size()) throw short_state(attr + " weights");
    l.weight.assign(weights_.begin() + static_cast<std::ptrdiff_t>(w_),
                    weights_.begin() + static_cast<std::ptrdiff_t>(w_ + n));
    w_ += n;
    l.weight_scales = take<float>(reals_, r_, per_channel_ ? out : 1, attr + " weight scales");
    for (const float scale : l.weight_scales) {
      if (!(scale > 0)) throw Error(fmt::format("{}: {} has a weight scale of {}; expected > 0", file_, attr, scale));
    }
  }
  void check_used_up() const {
    if (w_ != weights_.size() || r_ != static_cast<size_t>(reals_.numel()) ||
        i_ != static_cast<size_t>(ints_.numel())) {
      throw Error(
          fmt::format("{}: its state holds more values than its plan uses; not a file this version writes", file_));
    }
  }

 private:
  Error short_state(const std::string& what) const {
    return Error(fmt::format("{}: its state ends before the {}; not a file this version writes", file_, what));
  }
  template <typename T>
  std::vector<T> take(const at::Tensor& t, size_t& at, size_t n, const std::string& what) {
    if (at + n > static_cast<size_t>(t.numel())) throw short_state(what);
    const T* p = t.data_ptr<T>() + at;
    at += n;
    std::vector<T> out(p, p + n);
    if constexpr (std::is_floating_point_v<T>) {
      for (const T v : out) {
        if (!std::isfinite(v)) throw Error(fmt::format("{}: the {} hold NaN or infinite values", file_, what));
      }
    }
    return out;
  }

  std::string file_;
  std::vector<int32_t> weights_;
  at::Tensor reals_, ints_;
  bool per_channel_;
  size_t w_ = 0, r_ = 0, i_ = 0;
};

nlohmann::json recorded_metadata(const fs::path& file) {
  const auto text = extra_record(file, kMetadataRecord);
  if (!text)
    throw Error(fmt::format("{}: not an int8 file written by resnet8-ptq (no extra/{} record)", file.string(),
                            kMetadataRecord));
  const auto metadata = nlohmann::json::parse(*text, nullptr, false);
  if (!metadata.is_object()) throw Error(fmt::format("{}: its {} record is not JSON", file.string(), kMetadataRecord));
  return metadata;
}

// The state tensor `name` ("state0", ...) of the file's root object, of the given dtype and one dimension.
at::Tensor state_tensor(const NamedTensors& tensors, const std::string& name,
                        std::initializer_list<at::ScalarType> dtypes, const fs::path& file) {
  const auto it = tensors.find(name);
  const bool ok = it != tensors.end() && it->second.dim() == 1 &&
                  std::find(dtypes.begin(), dtypes.end(), it->second.scalar_type()) != dtypes.end();
  if (!ok)
    throw Error(fmt::format("{}: its state is not the (weights, reals, ints) of a resnet8 int8 file", file.string()));
  return it->second.contiguous();
}

}  // namespace

QuantPlan read_quantized_plan(const fs::path& file) {
  const Int8Scheme scheme = recorded_scheme(file).value_or(Int8Scheme{});
  const nlohmann::json metadata = recorded_metadata(file);
  PlanOptions options;
  options.weight_bits = scheme.weight_bits;
  options.activation_bits = scheme.activation_bits();
  options.per_channel = metadata.value("weights", std::string()).rfind("per_channel", 0) == 0;
  for (const auto& l : metadata.value("fp32_layers", nlohmann::json::array())) {
    if (l.is_string()) options.float_layers.insert(l.get<std::string>());
  }
  QuantPlan plan;
  try {
    plan = plan_structure(resnet8_graph(), options);
  } catch (const OptionError& e) {
    throw Error(fmt::format("{}: its metadata does not describe a ResNet8 plan ({})", file.string(), e.what()));
  }
  plan.rounding = metadata.value("rounding", std::string("nearest"));
  plan.equalized = metadata.value("equalized", false);
  plan.bias_corrected = metadata.value("bias_corrected", false);
  plan.weight_mse = metadata.value("weight_range", std::string()) == "mse";

  const NamedTensors tensors = read_torchscript_tensors(file, /*tuple_state=*/true);
  const at::Tensor packed = state_tensor(tensors, "state0", {at::kByte, at::kChar}, file);
  size_t count = 0;
  for (const auto& l : plan.layers) {
    if (!l.kept_float) count += l.weight_count();
  }
  std::vector<int32_t> weights;
  if (packed.scalar_type() == at::kChar) {  // files before bit packing: one int8 per weight
    weights.assign(packed.data_ptr<int8_t>(), packed.data_ptr<int8_t>() + packed.numel());
  } else {
    try {
      weights =
          unpack_bits(std::vector<uint8_t>(packed.data_ptr<uint8_t>(), packed.data_ptr<uint8_t>() + packed.numel()),
                      plan.weight_bits, count);
    } catch (const Error& e) {
      throw Error(fmt::format("{}: its weights: {}", file.string(), e.what()));
    }
  }
  StateReader reader(file, std::move(weights), state_tensor(tensors, "state1", {at::kFloat}, file),
                     state_tensor(tensors, "state2", {at::kLong}, file), plan.per_channel);
  detail::walk_int8_state(plan, reader);
  reader.check_used_up();
  return plan;
}

std::optional<Int8Scheme> recorded_scheme(const fs::path& file) {
  const auto text = extra_record(file, kMetadataRecord);
  if (!text) return std::nullopt;
  const auto metadata = nlohmann::json::parse(*text, nullptr, false);
  if (!metadata.is_object() || !metadata.value("reduce_range", nlohmann::json()).is_boolean()) {
    throw Error(
        fmt::format("{}: its {} record is not the metadata resnet8-ptq writes", file.string(), kMetadataRecord));
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
