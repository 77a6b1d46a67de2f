#include <resnet8/quant/quantize.h>

#include <resnet8/formats/int8_torchscript.h>
#include <resnet8/formats/json.h>
#include <resnet8/quant/planner.h>
#include <resnet8/run/engine.h>
#include <resnet8/support/error.h>

#include <fmt/format.h>
#include <torch/script.h>

namespace resnet8 {

Int8Scheme resolve_scheme(const QuantizeOptions& options, const std::string& engine) {
  if (options.weight_bits < 2 || options.weight_bits > 8) {
    throw OptionError("weight_bits", fmt::format("weight bits must be 2..8, got {}", options.weight_bits));
  }
  if (options.activation_bits && (*options.activation_bits < 2 || *options.activation_bits > 8)) {
    throw OptionError("activation_bits", fmt::format("activation bits must be 2..8, got {}", *options.activation_bits));
  }
  Int8Scheme scheme{options.weight_bits, 8};
  // Unset: 7-bit activations exactly where the weights alone would not make the scheme exact here.
  scheme.activation_bits =
      options.activation_bits.value_or(!scheme.fits_int16_pairs() && kernels_saturate_int16_pairs(engine) ? 7 : 8);
  try {
    check_exact(scheme, engine, "the requested int8 scheme");
  } catch (const Error& e) {
    throw OptionError("reduce_range", e.what());
  }
  return scheme;
}

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
  // Names are checked before the calibration pass, so a typo costs nothing.
  check_float_layers(model, options.float_layers);
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
  q.module = int8_module(q.plan, q.engine, q.metadata_json());
  return q;
}

std::string QuantizedResNet8::metadata_json() const { return nlohmann::json(ptq_metadata(*this)).dump(); }

void save_quantized(const QuantizedResNet8& q, const std::filesystem::path& file) {
  save_quantized(*q.module, q.engine, q.metadata_json(), file);
}

}  // namespace resnet8
