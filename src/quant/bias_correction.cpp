#include <resnet8/quant/bias_correction.h>

#include <ATen/ATen.h>

namespace resnet8 {

at::Tensor mean_output_shift(const at::Tensor& w_float, const at::Tensor& w_quantized, const LayerStatistics& stats) {
  const int64_t out = w_float.size(0);
  return w_quantized.to(at::kDouble).reshape({out, -1}).mv(stats.mean_quantized) -
         w_float.to(at::kDouble).reshape({out, -1}).mv(stats.mean_float);
}

}  // namespace resnet8
