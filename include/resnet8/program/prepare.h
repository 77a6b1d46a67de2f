#pragma once
// The first stage of the integer program: a TFLite model checked and prepared as TensorFlow Lite Micro's
// Prepare prepares it (QuantizeMultiplier in double, the ADD rescaling with a left shift of 20, the MEAN
// multiplier readjusted by the element count, the softmax input scaling and diff_min, the fused
// activations' ranges), the same for every kernel family. Everything TFLM would refuse, and everything
// the kernels do not implement, is refused here with one line naming the operator and what it found.
#include <resnet8/program/prepared.h>

#include <string>

namespace resnet8 {

// TFLM's QuantizeMultiplier (quantization_util.cc): the significand in Q0.31 and the power of two.
void quantize_multiplier(double multiplier, int32_t* significand, int* shift);

// Prepares `model` (checked: shapes, types, quantization, the parameters TFLM requires) for one image of
// 32 x 32 x 3 int8 in and 10 int8 scores out. Throws resnet8::Error naming `what` and the operator.
PreparedModel prepare_model(TfliteModel model, const std::string& what);

}  // namespace resnet8
