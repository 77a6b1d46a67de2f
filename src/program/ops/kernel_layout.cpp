// The C kernels' weight layout and folded biases (ops.h), shared by CONV_2D and FULLY_CONNECTED.
#include "program/ops/ops.h"

namespace resnet8::ops {

std::vector<int8_t> kernel_layout(const PreparedWeights& w) {
  const int32_t stride = r8_filter_stride(w.per_row), row_bytes = w.int4 ? stride / 2 : stride;
  // Padding weights are 0: nibbles of 8 (0x88) in int4.
  std::vector<int8_t> out(static_cast<size_t>(int64_t{w.rows} * row_bytes), w.int4 ? int8_t{-120} : int8_t{0});
  for (int32_t c = 0; c < w.rows; ++c) {
    for (int32_t i = 0; i < w.per_row; ++i) {
      const int8_t v = w.values[static_cast<size_t>(int64_t{c} * w.per_row + i)];
      if (!w.int4) {
        out[static_cast<size_t>(r8_weight_byte(w.rows, row_bytes, c, i))] = v;
        continue;
      }
      // int4: n = v + 8 in the nibble r8_int4_byte / r8_int4_high name.
      auto& byte = out[static_cast<size_t>(r8_weight_byte(w.rows, row_bytes, c, r8_int4_byte(i)))];
      const int shift = r8_int4_high(i) ? 4 : 0;
      const auto kept = static_cast<uint8_t>(static_cast<uint8_t>(byte) & ~(0x0F << shift));
      byte = static_cast<int8_t>(kept | ((v + 8) & 0x0F) << shift);
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

bool fast_requant(const std::vector<int32_t>& bias, const PreparedWeights& w, int32_t input_offset,
                  const std::vector<int32_t>& shift) {
  for (const int32_t s : shift) {
    if (s > 0 || s < -31) return false;
  }
  for (int32_t r = 0; r < w.rows; ++r) {
    if (PrepareContext::accumulator_bound(bias, w, input_offset, r) >= (int64_t{1} << 30)) return false;
  }
  return true;
}

}  // namespace resnet8::ops
