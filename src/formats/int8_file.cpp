#include <resnet8/formats/int8_file.h>

#include "data/pickle_check.h"
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
#include <sstream>
#include <type_traits>

namespace fs = std::filesystem;

namespace resnet8 {

void save_quantized(const torch::jit::Module& module, const std::string& engine, const std::string& metadata,
                    const fs::path& file) {
  const torch::jit::ExtraFilesMap extra = {{kMetadataRecord, metadata}, {kEngineRecord, engine}};
  // Serialized in memory, then written with checked writes: LibTorch's own file writer throws from a
  // destructor (and aborts the process) when the disk fills up.
  std::ostringstream bytes;
  try {
    module.save(bytes, extra);
  } catch (const c10::Error& e) {
    throw Error(fmt::format("{}: cannot serialize the module ({})", file.string(), e.what_without_backtrace()));
  }
  write_file_atomic(file, bytes.str());
}

int int8_file_format(const QuantPlan& plan) { return plan.pool_has_own_point() ? kInt8FileFormat : 1; }

namespace {

std::unique_ptr<caffe2::serialize::PyTorchStreamReader> open_reader(const fs::path& file) {
  try {
    return std::make_unique<caffe2::serialize::PyTorchStreamReader>(file.string());
  } catch (const std::exception&) {
    throw Error(fmt::format("{}: not a TorchScript file (not a PyTorch zip archive)", file.string()));
  }
}

// The record extra/<name> of a TorchScript archive, or nothing when it has none.
std::optional<std::string> extra_record(const fs::path& file, const std::string& name) {
  const auto reader = open_reader(file);
  try {
    const std::string record = "extra/" + name;
    if (!reader->hasRecord(record)) return std::nullopt;
    const auto [data, size] = reader->getRecord(record);
    return std::string(static_cast<const char*>(data.get()), size);
  } catch (const std::exception& e) {
    throw Error(fmt::format("{}: damaged TorchScript archive ({})", file.string(), one_line_reason(e)));
  }
}

}  // namespace

std::string recorded_engine(const fs::path& file) { return extra_record(file, kEngineRecord).value_or(""); }

namespace {

bool sane_scale(double scale) { return scale >= kMinScale && scale <= kMaxScale; }

// Reads a plan's values from the three state tensors, in the order int8_state.h walks them.
class StateReader {
 public:
  StateReader(const fs::path& file, std::vector<int32_t> weights, const at::Tensor& reals, const at::Tensor& ints,
              bool per_channel)
      : file_(file.string()), weights_(std::move(weights)), reals_(reals), ints_(ints), per_channel_(per_channel) {}

  void qparams(const std::string& attr, ActivationPlan& a) {
    a.qparams.scale = take<float>(reals_, r_, 1, attr + " scale")[0];
    a.qparams.zero_point = take<int64_t>(ints_, i_, 1, attr + " zero point")[0];
    if (!sane_scale(a.qparams.scale) || a.qparams.zero_point < 0 || a.qparams.zero_point > 255) {
      throw Error(
          fmt::format("{}: {} has scale {} and zero point {}; expected a scale in [{:g}, {:g}] and a zero "
                      "point in 0..255 (quint8)",
                      file_, attr, a.qparams.scale, a.qparams.zero_point, kMinScale, kMaxScale));
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
      if (!sane_scale(scale)) {
        throw Error(fmt::format("{}: {} has a weight scale of {}; expected one in [{:g}, {:g}]", file_, attr, scale,
                                kMinScale, kMaxScale));
      }
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
  if (!text) {
    throw Error(fmt::format("{}: not an int8 file written by resnet8-ptq (no extra/{} record)", file.string(),
                            kMetadataRecord));
  }
  const auto metadata = nlohmann::json::parse(*text, nullptr, false);
  if (!metadata.is_object()) throw Error(fmt::format("{}: its {} record is not JSON", file.string(), kMetadataRecord));
  return metadata;
}

// A metadata field of the expected JSON type, else `fallback` (a forged record cannot throw from here).
template <typename T>
T field(const nlohmann::json& metadata, const char* key, T fallback) {
  const auto it = metadata.find(key);
  if (it == metadata.end()) return fallback;
  if constexpr (std::is_same_v<T, bool>) return it->is_boolean() ? it->template get<bool>() : fallback;
  if constexpr (std::is_same_v<T, std::string>) return it->is_string() ? it->template get<std::string>() : fallback;
  return fallback;
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

// What torch::jit::load reads besides the state, checked before it does: every pickle's length fields and
// memo indices (pickle_check.h), no constants (resnet8-ptq's code has none, so constants.pkl is the empty
// tuple), and no storage record beyond the state's three (data/0..2), whose sizes read_torchscript_tensors()
// checks against their tensors.
void check_records(const fs::path& file) {
  const auto reader = open_reader(file);
  try {
    for (const auto& rel : reader->getAllRecords()) {  // names inside the archive's folder
      const std::string& name = rel;
      if (rel.rfind("data/", 0) == 0 && rel != "data/0" && rel != "data/1" && rel != "data/2") {
        throw Error(fmt::format("{}: holds a storage record {} that no state tensor of an int8 file uses",
                                file.string(), name));
      }
      const bool pickle = rel.size() > 4 && (rel.compare(rel.size() - 4, 4, ".pkl") == 0 ||
                                             rel.compare(rel.size() - 4, 4, "_pkl") == 0);  // code/*.debug_pkl
      if (!pickle) continue;
      const auto [data, size] = reader->getRecord(name);
      const char* bytes = static_cast<const char*>(data.get());
      if (const std::string problem = detail::pickle_problem(bytes, size); !problem.empty()) {
        throw Error(fmt::format("{}: {} is not a valid pickle ({})", file.string(), name, problem));
      }
      if (rel == "constants.pkl" && std::string(bytes, size) != std::string("\x80\x02).", 4)) {
        throw Error(fmt::format("{}: {} holds constants; the code resnet8-ptq writes has none", file.string(), name));
      }
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(fmt::format("{}: damaged TorchScript archive ({})", file.string(), one_line_reason(e)));
  }
}

// The file's format (kInt8FileFormat): 1 where the metadata records none.
int file_format(const fs::path& file, const nlohmann::json& metadata) {
  const auto value = metadata.value("format", nlohmann::json(1));
  const int64_t format = value.is_number_integer() ? value.get<int64_t>() : -1;
  if (format < 1 || format > kInt8FileFormat) {
    throw Error(
        fmt::format("{}: an int8 file of format {}; this resnet8 reads formats 1..{} (a newer resnet8-ptq "
                    "wrote it?)",
                    file.string(), value.dump(), kInt8FileFormat));
  }
  return static_cast<int>(format);
}

// The plan's structure from the architecture and the metadata's format, bit-widths, granularity and fp32 layers.
QuantPlan plan_of_metadata(const fs::path& file, const nlohmann::json& metadata, const Int8Scheme& scheme) {
  PlanOptions options;
  options.pool_point = file_format(file, metadata) >= 2;
  options.weight_bits = scheme.weight_bits;
  options.activation_bits = scheme.activation_bits;
  options.per_channel = field(metadata, "weights", std::string()).rfind("per_channel", 0) == 0;
  for (const auto& l : metadata.value("fp32_layers", nlohmann::json::array())) {
    if (l.is_string()) options.float_layers.insert(l.get<std::string>());
  }
  QuantPlan plan;
  try {
    plan = plan_structure(resnet8_graph(), options);
  } catch (const OptionError& e) {
    throw Error(fmt::format("{}: its metadata does not describe a ResNet8 plan ({})", file.string(), e.what()));
  }
  plan.rounding = field(metadata, "rounding", std::string("nearest"));
  plan.equalized = field(metadata, "equalized", false);
  plan.bias_corrected = field(metadata, "bias_corrected", false);
  plan.weight_mse = field(metadata, "weight_range", std::string()) == "mse";
  return plan;
}

// The plan's integer weights from state0: bit-packed at the plan's bits, or (files before bit packing) one
// int8 each, which must then lie in the recorded bit-width too.
std::vector<int32_t> state_weights(const fs::path& file, const at::Tensor& packed, const QuantPlan& plan) {
  size_t count = 0;
  for (const auto& l : plan.layers) {
    if (!l.kept_float) count += l.weight_count();
  }
  if (packed.scalar_type() == at::kChar) {
    std::vector<int32_t> weights(packed.data_ptr<int8_t>(), packed.data_ptr<int8_t>() + packed.numel());
    const int32_t qmax = (1 << (plan.weight_bits - 1)) - 1;
    for (const int32_t w : weights) {
      if (w < -qmax || w > qmax) {
        throw Error(fmt::format("{}: a weight of {} lies outside its recorded {}-bit range [-{}, {}]", file.string(), w,
                                plan.weight_bits, qmax, qmax));
      }
    }
    return weights;
  }
  try {
    return unpack_bits(std::vector<uint8_t>(packed.data_ptr<uint8_t>(), packed.data_ptr<uint8_t>() + packed.numel()),
                       plan.weight_bits, count);
  } catch (const Error& e) {
    throw Error(fmt::format("{}: its weights: {}", file.string(), e.what()));
  }
}

// Each quantized layer's bias is an int32 number of input scale x weight scale steps.
void check_biases(const fs::path& file, const QuantPlan& plan) {
  for (const auto& l : plan.layers) {
    const ActivationPlan& in = plan.activation(l.input);
    if (l.kept_float || in.kept_float) continue;
    for (size_t c = 0; c < l.bias.size(); ++c) {
      const double step = in.qparams.scale * l.weight_scales[l.weight_scales.size() == 1 ? 0 : c];
      if (std::abs(double(l.bias[c]) / step) > 2147483647.0) {
        throw Error(
            fmt::format("{}: {} has a bias of {} = {:g} steps of its input x weight scale; int8 kernels hold "
                        "a bias in int32",
                        file.string(), l.name, l.bias[c], double(l.bias[c]) / step));
      }
    }
  }
}

}  // namespace

QuantPlan read_quantized_plan(const fs::path& file) {
  const Int8Scheme scheme = recorded_scheme(file).value_or(Int8Scheme{});
  QuantPlan plan = plan_of_metadata(file, recorded_metadata(file), scheme);
  check_records(file);
  const NamedTensors tensors = read_torchscript_tensors(file, /*tuple_state=*/true);
  std::vector<int32_t> weights =
      state_weights(file, state_tensor(tensors, "state0", {at::kByte, at::kChar}, file), plan);
  StateReader reader(file, std::move(weights), state_tensor(tensors, "state1", {at::kFloat}, file),
                     state_tensor(tensors, "state2", {at::kLong}, file), plan.per_channel);
  detail::walk_int8_state(plan, reader);
  reader.check_used_up();
  check_biases(file, plan);
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
  // Files before weight_bits recorded 8-bit weights; files before activation_bits, 7 or 8 by reduce_range.
  Int8Scheme scheme{8, metadata["reduce_range"].get<bool>() ? 7 : 8};
  for (const auto& [key, bits] :
       {std::pair{"weight_bits", &scheme.weight_bits}, {"activation_bits", &scheme.activation_bits}}) {
    const auto value = metadata.value(key, nlohmann::json());
    if (!value.is_number_integer()) continue;
    const auto recorded = value.get<int64_t>();
    if (recorded < 2 || recorded > 8) {
      throw Error(fmt::format("{}: records {} {}; expected 2..8", file.string(), key, recorded));
    }
    *bits = static_cast<int>(recorded);
  }
  return scheme;
}

}  // namespace resnet8
