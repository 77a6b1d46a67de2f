#pragma once
// The quantization plan: stage 2's output and every writer's input (the int8 TorchScript file, the
// simulated model, the ONNX file, the JSON report). Plain data with no LibTorch types, so that a writer
// in a tool that does not link LibTorch can read it too. Its graph is the network's structure as the
// writers and runners walk it: nodes in order, each with its inputs and its activation point; a conv or
// linear node's weights and biases are the LayerPlan of the same name.
//
// Weights are symmetric, signed, `weight_bits` wide (a layer may have its own width: LayerPlan::weight_bits,
// the first and last layers of a low-bit plan at 7 bits): integers in [-qmax, qmax], qmax = 2^(bits-1) - 1,
// real value = q * scale (one scale per output channel, or one per tensor). Activations are affine,
// unsigned, `activation_bits` wide: real value = (q - zero_point) * scale.
#include <resnet8/model/graph.h>
#include <resnet8/quant/quant_params.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace resnet8 {

// One activation point (activation_ranges.h names them): what calibration saw, the range chosen,
// and its quantization parameters. A point kept float is not quantized.
struct ActivationPlan {
  std::string point;
  double observed_min = 0, observed_max = 0;
  double range_min = 0, range_max = 0;
  QParams qparams;
  bool kept_float = false;
};

enum class LayerKind { kConv, kLinear };

struct LayerPlan {
  std::string name;   // its graph node ("stem.conv", ..., "fc")
  std::string input;  // the activation point it reads (that of its input node); its output point is `name`
  LayerKind kind = LayerKind::kConv;
  std::vector<int64_t> weight_shape;  // [out, in, kh, kw] or [out, in]
  // Convolution geometry: the same in both spatial dimensions. Zero padding of pad_before rows and
  // columns before the input and pad_after after it (TensorFlow's 'same': 0 and 1 for the stride-2
  // 3x3 convolutions).
  int64_t stride = 1, pad_before = 0, pad_after = 0;
  bool relu = false;  // a ReLU follows (fused into the int8 convolution)
  bool kept_float = false;
  int weight_bits = 7;               // its weights' width: the plan's, unless PlanOptions::layer_weight_bits sets it
  std::vector<int32_t> weight;       // quantized weights, row-major; empty when kept_float
  std::vector<float> weight_scales;  // one per output channel or one; empty when kept_float
  std::vector<float> float_weight;   // the fp32 weights when kept_float; else empty
  // fp32 (batch norm folded in). When the layer and its input are quantized, each value is an integer
  // times input scale x weight scale, as integer kernels and runtimes hold a bias (int32).
  std::vector<float> bias;
  double weight_min = 0, weight_max = 0;  // of the fp32 weights, for reports

  // 'same' padding of one row and column after but none before (stride 2): int8 files and the native
  // runners hold such a kernel as 4x4 with a zero first row and column, so the kernel does the padding.
  bool pads_kernel() const { return pad_after == pad_before + 1; }
  size_t weight_count() const {  // elements of weight_shape
    size_t n = 1;
    for (const int64_t d : weight_shape) n *= static_cast<size_t>(d);
    return n;
  }
};

struct QuantPlan {
  int weight_bits = 7;  // the width of every layer's weights but those LayerPlan::weight_bits widens or narrows
  int activation_bits = 8;
  bool per_channel = true;
  bool weight_mse = false;           // weight scales chosen by squared-error search instead of max|w| (planner.h)
  bool equalized = false;            // made from a cross-layer-equalized network (equalize.h)
  std::string rounding = "nearest";  // how weights were rounded: "nearest" or "adaround" (refine.h)
  bool bias_corrected = false;       // empirical bias correction applied (refine.h)
  ObserverKind observer = ObserverKind::kPercentile;
  Graph graph;                              // the network, with the activation point of every node
  std::vector<ActivationPlan> activations;  // in the order the network writes them
  std::vector<LayerPlan> layers;            // in execution order; output activation point = layer name

  bool has_layer(const std::string& name) const;
  const LayerPlan& layer(const std::string& name) const;             // throws resnet8::Error if absent
  const ActivationPlan& activation(const std::string& point) const;  // throws resnet8::Error if absent
  std::vector<std::string> float_layers() const;                     // the layers kept in fp32
  bool fully_quantized_activations() const;                          // no activation point kept float
  int widest_weight_bits() const;  // the most bits any quantized layer's weights take (weight_bits if none)
  // The quantized layers whose width is not weight_bits, with their widths (names in execution order).
  std::vector<std::pair<std::string, int>> other_weight_bits() const;
  bool pool_has_own_point() const;  // the pool quantizes to a point of its own, not its input's (planner.h)
  // Whether int8 files clamp every activation to 0..2^activation_bits - 1: at 6 bits and fewer. (At 8 bits
  // there is nothing to clamp; at 7 LibTorch's reduce_range convention stands: no clamp.)
  bool clamps_activations() const { return activation_bits <= 6; }
};

// Throws OptionError unless integer kernels and int8 formats can hold the plan: weights of 2..8 bits (every layer's),
// activations of `min_activation_bits`..8 bits (int8 TorchScript files and the native runner: 2..8, clamping
// below 7; ONNX and TFLite, whose int8 tensors do not clamp: 7..8), every activation point quantized.
void check_int8_plan(const QuantPlan& plan, int min_activation_bits = 2);

}  // namespace resnet8
