#pragma once
// Static post-training quantization of ResNet8 into an int8 TorchScript file: the stages in order.
//
//   equalize()     FoldedResNet8 -> FoldedResNet8, the same function       (equalize.h; optional)
//   calibrate()    FoldedResNet8 + calibration images -> ActivationRanges   (activation_ranges.h)
//   make_plan()    FoldedResNet8 + ActivationRanges + PlanOptions -> QuantPlan (planner.h, quant_plan.h)
//   refine()       QuantPlan + calibration images -> QuantPlan (AdaRound, bias correction; refine.h; optional)
//   int8_module()  QuantPlan -> quantized TorchScript module                 (int8_torchscript.h)
//   save_quantized() module -> file, with engine and metadata records        (int8_file.h)
//
// quantize() runs them up to int8_module() for the options of resnet8-ptq; every stage can also be called alone.
// The default scheme, 7-bit weights [-63, 63] with 8-bit activations, is exact on every x86 CPU
// (int8_scheme.h).
#include <resnet8/data/cifar10.h>
#include <resnet8/engine/float_kernels.h>
#include <resnet8/formats/int8_file.h>
#include <resnet8/model/folded.h>
#include <resnet8/quant/activation_ranges.h>
#include <resnet8/quant/equalize.h>
#include <resnet8/quant/int8_scheme.h>
#include <resnet8/quant/planner.h>
#include <resnet8/quant/quant_plan.h>
#include <resnet8/quant/refine.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

namespace torch::jit {
struct Module;
}

namespace resnet8 {

struct QuantizeOptions {
  ObserverKind observer = ObserverKind::kPercentile;
  bool per_channel = true;
  WeightRange weight_range = WeightRange::kMax;  // how weight scales are chosen (planner.h)
  bool equalize = false;                         // cross-layer equalization before calibration (equalize.h)
  // Learned rounding and bias correction (refine.h); its on_progress is replaced by the one below.
  RefineOptions refine;
  std::string engine;   // empty = default_engine()
  int weight_bits = 7;  // 2..8; 7 cannot overflow the int16 pair sums of non-VNNI kernels
  // The first and last layers' weight bits (the stem conv, which sees the pixels, and the classifier), 2..8.
  // Unset: 7, or weight_bits if wider; so low-bit plans keep them at 7 bits, where rounding them costs most
  // and they hold 1.4 % of the weights.
  std::optional<int> end_bits;
  // Activation bits, 2..8 (7 = reduce_range). Unset: 7 only where the weights alone would not make the
  // scheme exact here (8-bit weights on kernels that saturate int16 pairs), else 8. A scheme that would
  // saturate is refused.
  std::optional<int> activation_bits;
  int64_t batch_size = 500;  // calibration batch size
  // Mixed precision: layers ("stem.conv", "stack2.conv1", ..., "fc") kept in fp32. Their input is
  // dequantized, the float conv runs, its output is quantized again for the int8 layers after it.
  std::set<std::string> float_layers;
  // Provenance, recorded in the file.
  int64_t calib_per_class = 0;
  uint64_t seed = 0;
  // Called as calibration batches are done: (stage, images done, images in total).
  std::function<void(const std::string&, int64_t, int64_t)> on_progress;
};

struct QuantizedResNet8 {
  std::shared_ptr<torch::jit::Module> module;  // forward(NHWC float 0..255) -> probabilities
  std::string engine;
  Int8Scheme scheme;
  QuantizeOptions options;
  QuantPlan plan;
  FoldedResNet8 network;  // the float network the plan was made from (equalized when options.equalize)
  std::vector<EqualizedPair> equalization;  // empty unless options.equalize
  RefineReport refinement;                  // empty unless options.refine changes anything
  FloatKernels float_kernels;               // what the float stages ran on (engine/float_kernels.h)

  std::string metadata_json() const;  // what produced it; stored in the file as extra/resnet8_ptq.json
  // The scheme with the layers of other widths: "4-bit weights (stem.conv 7-bit, fc 7-bit), 8-bit activations".
  std::string describe_scheme() const;
};

// The options' scheme on `engine`: weight bits, and activation bits resolved as documented above.
// Throws OptionError for weight or end bits outside 2..8 or a scheme that would saturate here (with the
// wider of weight_bits and the end bits).
Int8Scheme resolve_scheme(const QuantizeOptions& options, const std::string& engine);

// The first and last layers' weight bits: end_bits, or its default. Throws OptionError("end_bits") outside 2..8.
int resolved_end_bits(const QuantizeOptions& options);

// Calibrates `model` on `calibration`, plans and builds the int8 module on the options' engine
// (made current).
QuantizedResNet8 quantize(const FoldedResNet8& model, const cifar10::Dataset& calibration,
                          const QuantizeOptions& options);

// What produced q, as its file records it (int8_metadata.h): tool, LibTorch, engine, scheme, observer,
// weights, fp32 layers, calibration.
Int8FileMetadata int8_metadata(const QuantizedResNet8& q);

// Saves q.module with its engine and metadata records (int8_file.h).
void save_quantized(const QuantizedResNet8& q, const std::filesystem::path& file);

}  // namespace resnet8
