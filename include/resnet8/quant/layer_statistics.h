#pragma once
// What learned rounding (adaround.h) and bias correction (bias_correction.h) know about one layer's
// input on the calibration set, as second moments of its unfolded input rows.
//
// A layer computes rows of its unfolded input times its weights: y = W x, x a row of K = in x kh x kw
// values (im2col with the layer's stride and 'same' pads; the pooled features for fc). x~ is the row
// the quantized network feeds it (the plan's upstream layers and quantized activations, simulate()),
// x the fp32 network's; d = x~ - x. Asymmetric reconstruction (AdaRound, Nagel et al. 2020) asks the
// quantized layer W~ x~ to match the fp32 W x, whose squared error, summed over output channels and
// averaged over rows, is exactly
//   E|W~ x~ - W x|^2 = tr(D G D^T) + 2 tr(D C W^T) + tr(W Q W^T),   D = W~ - W,
// with G = E[x~ x~^T], C = E[x~ d^T], Q = E[d d^T]: a K x K problem whatever the calibration set's size.
#include <resnet8/data/cifar10.h>
#include <resnet8/model/folded.h>
#include <resnet8/quant/quant_plan.h>

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

namespace resnet8 {

struct LayerStatistics {
  int64_t rows = 0;           // input rows seen: images x output positions
  at::Tensor mean_quantized;  // [K] float64: E[x~]
  at::Tensor mean_float;      // [K]: E[x]
  at::Tensor gram;            // [K, K]: G = E[x~ x~^T]
  at::Tensor cross;           // [K, K]: C = E[x~ d^T]
  at::Tensor diff_gram;       // [K, K]: Q = E[d d^T]

  at::Tensor float_gram() const;  // E[x x^T] = G - C - C^T + Q
};

// E|W~ x~ - W x|^2 for weights [out, K] (any float type), from the statistics alone.
double reconstruction_error(const at::Tensor& w_float, const at::Tensor& w_quantized, const LayerStatistics& stats);

// The rows a layer multiplies: `x` is the activation the layer reads (NCHW for a conv; the pooled [N, C]
// features for fc, or [N, C, H, W] which it averages); returns [rows, K], K in the weight's row-major
// (in, kh, kw) order.
at::Tensor unfold_input(const LayerPlan& layer, const at::Tensor& x);

// Accumulates the statistics of one batch of rows: x~ and x, each [rows, K].
void accumulate(LayerStatistics& stats, const at::Tensor& rows_quantized, const at::Tensor& rows_float);

// The statistics of `layer`'s input over the calibration images: x~ from the simulated model of `plan`,
// x from `model` (the fp32 network the plan was made from).
LayerStatistics layer_statistics(const FoldedResNet8& model, const QuantPlan& plan, const std::string& layer,
                                 const cifar10::Dataset& calibration, int64_t batch_size = 100);

}  // namespace resnet8
