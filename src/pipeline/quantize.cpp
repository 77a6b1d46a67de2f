#include <resnet8/pipeline/quantize.h>

#include <resnet8/engine/engine.h>
#include <resnet8/engine/float_kernels.h>
#include <resnet8/engine/saturation.h>
#include <resnet8/formats/int8_torchscript.h>
#include <resnet8/quant/planner.h>
#include <resnet8/support/error.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/script.h>
#include <torch/version.h>

#include <algorithm>
#include <map>

namespace resnet8 {

Int8Scheme resolve_scheme(const QuantizeOptions& options, const std::string& engine) {
  if (options.weight_bits < 2 || options.weight_bits > 8) {
    throw OptionError("weight_bits", fmt::format("weight bits must be 2..8, got {}", options.weight_bits));
  }
  if (options.activation_bits && (*options.activation_bits < 2 || *options.activation_bits > 8)) {
    throw OptionError("activation_bits", fmt::format("activation bits must be 2..8, got {}", *options.activation_bits));
  }
  // The widest weights decide exactness; unset activation bits are 7 exactly where those alone would not be
  // exact here.
  Int8Scheme widest{std::max(options.weight_bits, resolved_end_bits(options)), 8};
  widest.activation_bits =
      options.activation_bits.value_or(!widest.fits_int16_pairs() && kernels_saturate_int16_pairs(engine) ? 7 : 8);
  try {
    check_exact(widest, engine, "the requested int8 scheme");
  } catch (const Error& e) {
    throw OptionError("reduce_range", e.what());
  }
  return Int8Scheme{options.weight_bits, widest.activation_bits};
}

int resolved_end_bits(const QuantizeOptions& options) {
  const int bits = options.end_bits.value_or(std::max(7, options.weight_bits));
  if (bits < 2 || bits > 8) throw OptionError("end_bits", fmt::format("end bits must be 2..8, got {}", bits));
  return bits;
}

namespace {

// The first and last layers at the end bits where those differ from the weight bits.
std::map<std::string, int> end_layer_bits(const FoldedResNet8& model, const QuantizeOptions& options) {
  const int bits = resolved_end_bits(options);
  const std::vector<std::string> layers = layer_names(model);
  if (bits == options.weight_bits || layers.empty()) return {};
  return {{layers.front(), bits}, {layers.back(), bits}};
}

}  // namespace

QuantizedResNet8 quantize(const FoldedResNet8& model, const cifar10::Dataset& calibration,
                          const QuantizeOptions& options) {
  QuantizedResNet8 q;
  q.options = options;
  q.engine = options.engine.empty() ? default_engine() : options.engine;
  set_engine(q.engine);
  q.scheme = resolve_scheme(options, q.engine);
  PlanOptions plan_options;
  plan_options.weight_bits = q.scheme.weight_bits;
  plan_options.activation_bits = q.scheme.activation_bits;
  plan_options.per_channel = options.per_channel;
  plan_options.weight_range = options.weight_range;
  plan_options.float_layers = options.float_layers;
  plan_options.layer_weight_bits = end_layer_bits(model, options);
  // Names are checked before the calibration pass, so a typo costs nothing.
  check_float_layers(model, options.float_layers);
  {
    const FloatKernelScope float_stages;  // no oneDNN while the float stages run (float_kernels.h)
    q.float_kernels = float_kernels();
    q.network = options.equalize ? equalize(model, &q.equalization) : model;
    const ActivationRanges ranges =
        calibrate(q.network, calibration, {options.observer, options.batch_size, options.on_progress});
    q.plan = make_plan(q.network, ranges, plan_options);
    q.plan.equalized = options.equalize;
    if (options.refine.changes_anything()) {
      RefineOptions refine = options.refine;
      refine.on_progress = options.on_progress;
      q.refinement = resnet8::refine(q.network, calibration, q.plan, refine);
    }
  }
  q.module = int8_module(q.plan, q.engine, q.metadata_json());
  return q;
}

Int8FileMetadata int8_metadata(const QuantizedResNet8& q) {
  Int8FileMetadata m;
  m.producer = std::string("resnet8-ptq ") + RESNET8_VERSION;
  m.format = int8_file_format(q.plan);
  m.libtorch = TORCH_VERSION;
  m.engine = q.engine;
  m.reduce_range = q.scheme.reduce_range();
  m.weight_bits = q.scheme.weight_bits;
  for (const auto& [layer, bits] : q.plan.other_weight_bits()) m.layer_weight_bits[layer] = bits;
  m.activation_bits = q.scheme.activation_bits;
  m.observer = observer_name(q.options.observer);
  m.weights = q.options.per_channel ? "per_channel_symmetric_qint8" : "per_tensor_symmetric_qint8";
  m.weight_range = q.plan.weight_mse ? "mse" : "max";
  m.equalized = q.plan.equalized;
  m.rounding = q.plan.rounding;
  m.bias_corrected = q.plan.bias_corrected;
  m.weight_storage = "bit-packed, " + std::to_string(q.plan.weight_bits) + " bits per weight" +
                     (m.layer_weight_bits.empty() ? "" : " (layer_weight_bits: their own)");
  m.fp32_layers.assign(q.options.float_layers.begin(), q.options.float_layers.end());
  m.calib_per_class = q.options.calib_per_class;
  m.seed = q.options.seed;
  m.float_kernels = q.float_kernels.describe();
  return m;
}

std::string QuantizedResNet8::describe_scheme() const {
  std::vector<std::string> others;
  for (const auto& [layer, bits] : plan.other_weight_bits()) others.push_back(fmt::format("{} {}-bit", layer, bits));
  if (others.empty()) return scheme.describe();
  return fmt::format("{}-bit weights ({}), {}-bit activations", scheme.weight_bits, fmt::join(others, ", "),
                     scheme.activation_bits);
}

std::string QuantizedResNet8::metadata_json() const { return nlohmann::json(int8_metadata(*this)).dump(); }

void save_quantized(const QuantizedResNet8& q, const std::filesystem::path& file) {
  save_quantized(*q.module, q.engine, q.metadata_json(), file);
}

}  // namespace resnet8
