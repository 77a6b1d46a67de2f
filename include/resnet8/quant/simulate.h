#pragma once
// A writer of the quantization plan: the simulated ("fake-quant") model, for analysis at bit-widths
// LibTorch has no kernels for. Weights are the plan's integers times their scales; every activation
// point the plan quantizes is quantized and immediately dequantized, and so are the pooled features fc
// reads (at the last add's parameters, as int8 pooling keeps them); the network runs in float with the
// plan's biases (int32 steps for quantized layers).
#include <resnet8/model/folded.h>
#include <resnet8/quant/quant_plan.h>

#include <ATen/core/Tensor.h>

namespace resnet8 {

// Affine quantize-dequantize: (clamp(round(x / scale) + zero_point, qmin, qmax) - zero_point) * scale.
at::Tensor fake_quant_affine(const at::Tensor& x, double scale, int64_t zero_point, int64_t qmin, int64_t qmax);

// A layer's weights as the plan gives them, in float: q * scale, or the fp32 weights it kept.
at::Tensor plan_weight(const LayerPlan& layer);

struct SimulatedModel {
  FoldedResNet8 model;
  FoldedResNet8::Transform transform;
  // x: float32 NHWC [N, 32, 32, 3], 0..255 -> softmax probabilities [N, 10].
  at::Tensor forward(const at::Tensor& x) const { return model.forward(x, nullptr, transform); }
};

// `model` with the plan's weights and activation quantization. The plan must come from make_plan()
// on this model's structure; throws resnet8::Error if a layer is missing from it.
SimulatedModel simulate(const FoldedResNet8& model, const QuantPlan& plan);

}  // namespace resnet8
