#pragma once
// A writer of the quantization plan for runtimes outside LibTorch: an ONNX model in QDQ form
// (QuantizeLinear/DequantizeLinear pairs around float operators), which ONNX Runtime, OpenVINO,
// TensorRT and other converters turn into int8 kernels.
//
//   input "x": float32 NHWC [N, 32, 32, 3], pixels 0..255  ->  output "probs": softmax [N, 10]
//   Transpose to NCHW, Q/DQ with the plan's input parameters; each conv: DQ(int8 weights, per-channel
//   scales on axis 0 or one scale) and DQ(int32 bias at input scale x weight scale) into Conv with the
//   plan's pads (TensorFlow 'same' as asymmetric pads, no Pad node), Relu where the plan fuses one,
//   Q/DQ at the layer's output parameters; residual adds as Add + Relu + Q/DQ; GlobalAveragePool
//   re-quantized at its input's parameters (as LibTorch's quantized pool keeps them); the classifier as
//   Gemm; Softmax. Layers the plan keeps in fp32 have float weights and bias (their output is still
//   quantized, except the classifier's, as in the int8 TorchScript file).
//
// Weights of any bit-width 2..8 are stored as int8 in the same format. Uses Debian's ONNX library (its
// checker and shape inference); this header and its source include no LibTorch header, because
// LibTorch ships protobuf headers of its own that clash with the system's.
#include <resnet8/quant/quant_plan.h>

#include <string>

namespace resnet8 {

inline constexpr int kOnnxOpset = 13;  // per-channel QuantizeLinear/DequantizeLinear (axis) need 13

// The serialized ModelProto for `plan`, after the ONNX checker and strict shape inference passed.
// Throws resnet8::Error naming what is wrong if the plan cannot be exported or the checker rejects it.
std::string onnx_model(const QuantPlan& plan, const std::string& producer_version);

}  // namespace resnet8
