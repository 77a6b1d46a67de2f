#include <resnet8/formats/int8_file.h>

#include "data/pickle_check.h"
#include "formats/int8_state.h"

#include <resnet8/data/weights.h>
#include <resnet8/formats/bit_pack.h>
#include <resnet8/model/architecture.h>
#include <resnet8/quant/planner.h>
#include <resnet8/support/atomic_file.h>
#include <resnet8/support/error.h>

#include <fmt/format.h>
#include <torch/script.h>

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

int int8_file_format(const QuantPlan& plan) {
  const bool mixed = !plan.other_weight_bits().empty();
  if (!plan.pool_has_own_point()) {
    if (mixed) throw Error("an int8 file holds layers of other weight widths only with the pool's own point");
    return 1;
  }
  return mixed ? 3 : 2;
}

namespace {}  // namespace

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
void check_records(const TorchScriptArchive& archive) {
  const fs::path& file = archive.file();
  try {
    for (const auto& rel : archive.records()) {  // names inside the archive's folder
      const std::string& name = rel;
      if (rel.rfind("data/", 0) == 0 && rel != "data/0" && rel != "data/1" && rel != "data/2") {
        throw Error(fmt::format("{}: holds a storage record {} that no state tensor of an int8 file uses",
                                file.string(), name));
      }
      const bool pickle = rel.size() > 4 && (rel.compare(rel.size() - 4, 4, ".pkl") == 0 ||
                                             rel.compare(rel.size() - 4, 4, "_pkl") == 0);  // code/*.debug_pkl
      if (!pickle) continue;
      const std::string bytes = archive.record(name).value_or("");
      if (const std::string problem = detail::pickle_problem(bytes.data(), bytes.size()); !problem.empty()) {
        throw Error(fmt::format("{}: {} is not a valid pickle ({})", file.string(), name, problem));
      }
      if (rel == "constants.pkl" && bytes != std::string("\x80\x02).", 4)) {
        throw Error(fmt::format("{}: {} holds constants; the code resnet8-ptq writes has none", file.string(), name));
      }
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(fmt::format("{}: damaged TorchScript archive ({})", file.string(), one_line_reason(e)));
  }
}

// The plan's structure from the architecture and the metadata's format, bit-widths, granularity and fp32 layers.
QuantPlan plan_of_metadata(const fs::path& file, const Int8FileMetadata& metadata) {
  PlanOptions options;
  options.pool_point = metadata.format >= 2;
  options.weight_bits = metadata.weight_bits;
  options.activation_bits = metadata.activation_bits;
  options.per_channel = metadata.per_channel();
  options.float_layers.insert(metadata.fp32_layers.begin(), metadata.fp32_layers.end());
  if (metadata.format >= 3) options.layer_weight_bits = metadata.layer_weight_bits;
  QuantPlan plan;
  try {
    plan = plan_structure(resnet8_graph(), options);
  } catch (const OptionError& e) {
    throw Error(fmt::format("{}: its metadata does not describe a ResNet8 plan ({})", file.string(), e.what()));
  }
  plan.rounding = metadata.rounding;
  plan.equalized = metadata.equalized;
  plan.bias_corrected = metadata.bias_corrected;
  plan.weight_mse = metadata.weight_range == "mse";
  return plan;
}

// The plan's integer weights from state0: bit-packed at the layers' bits, or (files before bit packing, all of
// one width) one int8 each, which must then lie in the recorded bit-width too.
std::vector<int32_t> state_weights(const fs::path& file, const at::Tensor& packed, const QuantPlan& plan) {
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
                       detail::weight_runs(plan));
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

std::optional<Int8File> read_int8_file(const TorchScriptArchive& archive) {
  const fs::path& file = archive.file();
  const auto text = archive.record(std::string("extra/") + kMetadataRecord);
  if (!text) return std::nullopt;
  Int8File out;
  out.metadata = parse_int8_metadata(*text, file.string(), kInt8FileFormat);
  out.engine = archive.record(std::string("extra/") + kEngineRecord).value_or("");
  QuantPlan plan = plan_of_metadata(file, out.metadata);
  check_records(archive);
  const NamedTensors tensors = archive.tensors(/*tuple_state=*/true);
  std::vector<int32_t> weights =
      state_weights(file, state_tensor(tensors, "state0", {at::kByte, at::kChar}, file), plan);
  StateReader reader(file, std::move(weights), state_tensor(tensors, "state1", {at::kFloat}, file),
                     state_tensor(tensors, "state2", {at::kLong}, file), plan.per_channel);
  detail::walk_int8_state(plan, reader);
  reader.check_used_up();
  check_biases(file, plan);
  out.plan = std::move(plan);
  return out;
}

std::string recorded_engine(const fs::path& file) {
  return TorchScriptArchive(file).record(std::string("extra/") + kEngineRecord).value_or("");
}

std::optional<Int8Scheme> recorded_scheme(const fs::path& file) {
  const auto text = TorchScriptArchive(file).record(std::string("extra/") + kMetadataRecord);
  if (!text) return std::nullopt;
  const Int8FileMetadata m = parse_int8_metadata(*text, file.string(), kInt8FileFormat);
  return Int8Scheme{m.widest_weight_bits(), m.activation_bits};
}

QuantPlan read_quantized_plan(const fs::path& file) {
  std::optional<Int8File> f = read_int8_file(TorchScriptArchive(file));
  if (!f) {
    throw Error(fmt::format("{}: not an int8 file written by resnet8-ptq (no extra/{} record)", file.string(),
                            kMetadataRecord));
  }
  return std::move(f->plan);
}

}  // namespace resnet8
