#pragma once
// Empirical bias correction (Nagel et al. 2019, in its empirical form): quantization shifts the mean
// of a layer's output, by E[W~ x~] - E[W x] per output channel on the calibration data (the
// quantized layer on its quantized input against the fp32 layer on the fp32 input, layer_statistics.h).
// Subtracting that shift from the bias removes it. Applied layer by layer in execution order, each
// layer's statistics already include the corrected upstream layers.
#include <resnet8/quant/layer_statistics.h>

#include <ATen/core/Tensor.h>

namespace resnet8 {

// E[W~ x~] - E[W x]: [out] float64, for weights [out, K].
at::Tensor mean_output_shift(const at::Tensor& w_float, const at::Tensor& w_quantized, const LayerStatistics& stats);

}  // namespace resnet8
