#pragma once
// The tile of the direct float convolution (float_conv.h), written once with GCC's vector extensions and
// compiled by each level's file for its instructions: a vector of 16 floats is one AVX-512 register, two AVX2
// registers or four SSE2 registers, and `sum += x * w` a fused multiply-add where the level has FMA (built
// with -ffp-contract=fast). kTile output pixels a tile: their sums stay in registers.
#include "run/float_conv.h"

#include <algorithm>
#include <cstring>

namespace resnet8::direct {
namespace {

typedef float Vec16 __attribute__((vector_size(64)));
typedef int32_t Int16 __attribute__((vector_size(64)));

inline Vec16 load16(const float* p) {
  Vec16 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// One block of 16 output channels for the n pixels of a tile whose windows start at `origin` + offset[px].
template <int kTile>
inline void block(const FloatConv& c, const float* origin, const int32_t* offset, const float* w, const float* bias,
                  int32_t n, int32_t channels, float* out) {
  const int32_t run = c.kernel * c.in_channels, row = c.padded_width * c.in_channels;
  Vec16 sum[kTile];
  for (int px = 0; px < kTile; ++px) sum[px] = load16(bias);
  for (int32_t ky = 0; ky < c.kernel; ++ky) {
    const float* r = origin + ky * row;
    for (int32_t k = 0; k < run; ++k, w += 16) {
      const Vec16 weights = load16(w);
      for (int px = 0; px < kTile; ++px) sum[px] += r[offset[px] + k] * weights;
    }
  }
  for (int32_t px = 0; px < n; ++px) {
    Vec16 v = sum[px];
    if (c.relu) v = reinterpret_cast<Vec16>(reinterpret_cast<Int16>(v) & (v > Vec16{}));  // max(v, 0)
    if (channels == 16) {
      std::memcpy(out + px * c.out_channels, &v, sizeof v);  // a constant size: one store, not a call
    } else {
      for (int32_t j = 0; j < channels; ++j) out[px * c.out_channels + j] = v[j];
    }
  }
}

template <int kTile>
void conv_rows(const FloatConv& c, const float* padded, float* out, int32_t row_begin, int32_t row_end) {
  const int32_t blocks = (c.out_channels + 15) / 16, filter = c.kernel * c.kernel * c.in_channels * 16;
  for (int32_t oy = row_begin; oy < row_end; ++oy) {
    for (int32_t ox = 0; ox < c.out_width; ox += kTile) {
      const int32_t n = std::min(kTile, c.out_width - ox);
      const float* origin = padded + (oy * c.stride * c.padded_width + ox * c.stride) * c.in_channels;
      int32_t offset[kTile];  // pixels past n repeat the last, so every read stays in the image
      for (int px = 0; px < kTile; ++px) offset[px] = std::min(px, n - 1) * c.stride * c.in_channels;
      float* o = out + (oy * c.out_width + ox) * c.out_channels;
      for (int32_t b = 0; b < blocks; ++b) {
        block<kTile>(c, origin, offset, c.weights + b * filter, c.bias + b * 16, n,
                     std::min(16, c.out_channels - b * 16), o + b * 16);
      }
    }
  }
}

}  // namespace
}  // namespace resnet8::direct
