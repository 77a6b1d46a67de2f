#pragma once
// Stage 2 of quantization, plan: from the folded float network and its calibrated activation ranges
// to a QuantPlan (quant_plan.h). One symmetric weight quantizer and one affine activation quantizer
// serve every bit-width; int8 is the 8-bit case.
#include <resnet8/model/folded.h>
#include <resnet8/quant/activation_ranges.h>
#include <resnet8/quant/quant_plan.h>

#include <ATen/core/Tensor.h>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace resnet8 {

// How a weight scale is chosen: max|w| / qmax (nothing clipped), or the scale alpha * max|w| / qmax
// with alpha in [0.30, 1] (step 0.005) that minimises the squared quantization error of the weights
// (rounding + clipping), per output channel or per tensor.
enum class WeightRange { kMax, kMse };

WeightRange parse_weight_range(const std::string& name);  // "max" | "mse"; throws OptionError("weight_range")
std::string weight_range_name(WeightRange range);

struct PlanOptions {
  int weight_bits = 7;      // 2..16 (int8 files: 2..8)
  int activation_bits = 8;  // 2..16 (int8 files: 7 or 8)
  bool per_channel = true;  // one weight scale per output channel, else one per tensor
  WeightRange weight_range = WeightRange::kMax;
  std::set<std::string> float_layers;  // layers whose weights stay fp32 (layer_names())
  // Layers whose weights take another width than weight_bits (2..16), e.g. {"stem.conv", 7}, {"fc", 7}.
  std::map<std::string, int> layer_weight_bits;
  // Activation points left unquantized (activation_ranges.h names them). For simulation only: an int8
  // file quantizes every point, the outputs of fp32 layers included.
  std::set<std::string> float_points;
  // The pooled features at an activation point of their own ("pool", calibrated like any other), as
  // TFLite's MEAN has its own output scale. False: they keep their input's grid, as LibTorch's quantized
  // pooling does (int8 files of format 1 were planned so).
  bool pool_point = true;
};

// The quantizable layers in execution order: "stem.conv", "stack1.conv1", ..., "stack3.shortcut", "fc".
std::vector<std::string> layer_names(const FoldedResNet8& model);

// Throws OptionError("float_layers") naming the first unknown layer and the known ones.
void check_float_layers(const FoldedResNet8& model, const std::set<std::string>& layers);

// Symmetric `bits`-bit weights (2..16) in [-qmax, qmax], qmax = 2^(bits-1) - 1: clamp(round(w / scale)),
// scale per output channel (dim 0) or per tensor as `range` says, rounded to float32 first (as stored).
// Returns the integers as int32; `scales` receives the float32 scales.
at::Tensor quantize_weight(const at::Tensor& w, int bits, bool per_channel, at::Tensor& scales,
                           WeightRange range = WeightRange::kMax);

// A layer of the float network as the plan sees it: weights [out, in, kh, kw] (3x3 kernels without the
// folded padding) or [out, in], and bias. Throws resnet8::Error for an unknown layer.
struct FloatLayer {
  at::Tensor weight, bias;
};
FloatLayer float_layer(const FoldedResNet8& model, const std::string& name);

// Rounds a quantized layer's bias to int32 steps of input scale x weight scale (per channel), as integer
// kernels and runtimes hold it; a layer or input kept float is left alone.
void round_bias(LayerPlan& layer, const ActivationPlan& input);

// The plan's copy of the network's graph: every node quantized at its own activation point, the pool too
// when `pool_point`; without it the pool keeps its input's point.
Graph plan_graph(const Graph& network, bool pool_point = true);

// The activation points of a plan's graph, in the order the network writes them (as calibrate() finds
// them for the folded network).
std::vector<std::string> activation_points(const Graph& plan_graph);
std::vector<std::string> activation_points(const FoldedResNet8& model);

// The plan's structure without values, from the network's graph: the plan's graph (plan_graph()); per
// layer name, input point, kind, shape, geometry and whether it stays fp32; the activation points by
// name; the options' bit-widths and granularity. make_plan() fills in the values; a reader of a saved
// plan (int8_file.h) fills them from the file. Throws as make_plan().
QuantPlan plan_structure(const Graph& network, const PlanOptions& options);

// The plan. Throws OptionError for bit-widths outside 2..16 or unknown layer/point names.
QuantPlan make_plan(const FoldedResNet8& model, const ActivationRanges& ranges, const PlanOptions& options);

}  // namespace resnet8
