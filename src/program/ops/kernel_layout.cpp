// The C kernels' weight layout and folded biases (ops.h), shared by CONV_2D and FULLY_CONNECTED.
#include "program/ops/ops.h"

namespace resnet8::ops {

std::vector<int8_t> kernel_layout(const PreparedWeights& w) {
  const int64_t stride = r8_filter_stride(w.per_row);
  std::vector<int8_t> out(static_cast<size_t>(w.int4 ? w.rows * stride / 2 : w.rows * stride), 0);
  for (int64_t c = 0; c < w.rows; ++c) {
    for (int64_t i = 0; i < w.per_row; ++i) {
      const int8_t v = w.values[static_cast<size_t>(c * w.per_row + i)];
      const int64_t at = c * stride + i;
      if (!w.int4) {
        out[static_cast<size_t>(at)] = v;
        continue;
      }
      auto& byte = out[static_cast<size_t>(at / 8 * 4 + at % 4)];
      const auto nibble = static_cast<uint8_t>(v & 0x0F);
      byte = static_cast<int8_t>(static_cast<uint8_t>(byte) | (at % 8 >= 4 ? nibble << 4 : nibble));
    }
  }
  return out;
}

std::vector<int32_t> folded_bias(const std::vector<int32_t>& bias, const PreparedWeights& w, int32_t input_offset) {
  std::vector<int32_t> out = bias;
  for (int32_t r = 0; r < w.rows; ++r) {
    int64_t sum = 0;
    for (int32_t i = 0; i < w.per_row; ++i) sum += w.at(r, i);
    out[static_cast<size_t>(r)] = static_cast<int32_t>(out[static_cast<size_t>(r)] + input_offset * sum);
  }
  return out;
}

}  // namespace resnet8::ops
