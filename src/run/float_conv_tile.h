#pragma once
// The tile of the direct float convolution (float_conv.h), written once with GCC's vector extensions and
// compiled by each level's file for its instructions, with its vector type (V: 4, 8 or 16 floats) and tile
// (kTile output pixels): `sum += x * w` is a fused multiply-add where the level has FMA (built with
// -ffp-contract=fast), and the tile's sums stay in registers.
#include "run/float_conv.h"

#include <algorithm>
#include <cstddef>
#include <cstring>

namespace resnet8::direct {
namespace {

// Vectors of 4, 8 and 16 floats: each level's registers (SSE2, AVX2, AVX-512). A tile keeps 16 channels in
// 16 / lanes of them, so that every sum stays in a register (GCC keeps wider vectors than the level has in memory).
typedef float Vec4 __attribute__((vector_size(16)));
typedef float Vec8 __attribute__((vector_size(32)));
typedef float Vec16 __attribute__((vector_size(64)));

template <typename V>
inline V load(const float* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <typename V>
inline V relu(V v) {
  const V zero{};
  using Mask = decltype(v > zero);
  return reinterpret_cast<V>(reinterpret_cast<Mask>(v) & (v > zero));  // max(v, 0)
}

using Index = std::ptrdiff_t;  // offsets into arrays

// One block of 16 output channels for the n pixels of a tile whose windows start at `origin` + offset[px].
template <typename V, int kTile>
inline void block(const FloatConv& c, const float* origin, const int32_t* offset, const float* w, const float* bias,
                  Index n, Index channels, float* out) {
  constexpr Index kLanes = sizeof(V) / sizeof(float), kParts = 16 / kLanes;
  const Index run = Index{c.kernel} * c.in_channels, row = Index{c.padded_width} * c.in_channels;
  V sum[kTile][kParts];
  for (Index px = 0; px < kTile; ++px)
    for (Index part = 0; part < kParts; ++part) sum[px][part] = load<V>(bias + part * kLanes);
  for (Index ky = 0; ky < c.kernel; ++ky) {
    const float* r = origin + ky * row;
    for (Index k = 0; k < run; ++k, w += 16) {
      V weights[kParts];
      for (Index part = 0; part < kParts; ++part) weights[part] = load<V>(w + part * kLanes);
      for (Index px = 0; px < kTile; ++px) {
        const float x = r[offset[px] + k];
        for (Index part = 0; part < kParts; ++part) sum[px][part] += x * weights[part];
      }
    }
  }
  for (Index px = 0; px < n; ++px) {
    float* o = out + px * c.out_channels;
    for (Index part = 0; part < kParts; ++part) {
      const V v = c.relu ? relu(sum[px][part]) : sum[px][part];
      if (channels == 16) {
        std::memcpy(o + part * kLanes, &v, sizeof v);  // a constant size: one store, not a call
      } else {
        for (Index j = 0; j < kLanes && part * kLanes + j < channels; ++j) o[part * kLanes + j] = v[j];
      }
    }
  }
}

template <typename V, int kTile>
void conv_rows(const FloatConv& c, const float* padded, float* out, int32_t row_begin, int32_t row_end) {
  const Index blocks = (c.out_channels + 15) / 16, filter = Index{c.kernel} * c.kernel * c.in_channels * 16;
  for (Index oy = row_begin; oy < row_end; ++oy) {
    for (Index ox = 0; ox < c.out_width; ox += kTile) {
      const int32_t n = std::min<int32_t>(kTile, c.out_width - static_cast<int32_t>(ox));
      const float* origin = padded + (oy * c.stride * c.padded_width + ox * c.stride) * c.in_channels;
      int32_t offset[kTile];  // pixels past n repeat the last, so every read stays in the image
      for (int32_t px = 0; px < kTile; ++px) offset[px] = std::min(px, n - 1) * c.stride * c.in_channels;
      float* o = out + (oy * c.out_width + ox) * c.out_channels;
      for (Index b = 0; b < blocks; ++b) {
        block<V, kTile>(c, origin, offset, c.weights + b * filter, c.bias + b * 16, n,
                        std::min<Index>(16, c.out_channels - b * 16), o + b * 16);
      }
    }
  }
}

}  // namespace
}  // namespace resnet8::direct
