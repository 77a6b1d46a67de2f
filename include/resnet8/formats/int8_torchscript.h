#pragma once
// A writer of the quantization plan: the int8 TorchScript module that runs on LibTorch's quantized
// ops (any LibTorch, C++ or Python torch.jit.load).
//
// Layout: the NHWC 0..255 input is quantized (quint8); convolutions run as quantized::conv2d(_relu)
// with packed qint8 weights (per-channel or per-tensor symmetric, the plan's N-bit values); residual
// adds as quantized::add_relu; the 8x8 average pool on quantized tensors; the classifier as
// quantized::linear; the logits are dequantized before the softmax. Layers the plan keeps in fp32
// dequantize their input, run in float and quantize their output again.
//
// The module's state is three flat tensors so the file stays small: the weights bit-packed at the
// plan's weight bits (bit_pack.h: two 4-bit weights per byte, ...); float32 biases, scales and fp32
// weights; int64 zero points. Its __setstate__ unpacks the weights and rebuilds the packed weights
// from them at load time, for the engine current then. A scheme that only VNNI kernels compute exactly also
// gets a __setstate__ guard that refuses to load where int16 pairs saturate (engine/saturation.h).
#include <resnet8/quant/int8_scheme.h>
#include <resnet8/quant/quant_plan.h>

#include <memory>
#include <string>

namespace torch::jit {
struct Module;
}

namespace resnet8 {

// The scheme a plan declares (its weight_bits and activation_bits), checked writable as this module: throws
// OptionError unless the weights are 2..8 bits, the activations 2..8 bits and every activation point
// quantized. (required_scheme() in quant/int8_scheme.h is what its integers need.)
Int8Scheme declared_scheme(const QuantPlan& plan);

// The module for `plan`, its packed weights built for `engine` (the engine is recorded in the module
// and made current). `metadata` is stored in the module's state (a JSON text, see quantize.h).
std::shared_ptr<torch::jit::Module> int8_module(const QuantPlan& plan, const std::string& engine,
                                                const std::string& metadata);

}  // namespace resnet8
