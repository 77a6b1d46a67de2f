#pragma once
// The direct float convolution of run/float_direct.h, per instruction set: one layer, packed once, and its
// output rows computed from a padded copy of the input. Private to src/run/.
//
// The padded image holds the input NHWC with its 'same' padding as zeros (pad_top rows above, pad_left columns
// to the left, as many after as the windows need), so that every output pixel's window is kernel rows of
// kernel x in_channels contiguous floats. The filters are packed in blocks of 16 output channels:
// [block][ky][kx][in_channel][16], the channels past out_channels zero. A tile of output pixels of one row is
// computed 16 channels at a time, each pixel's sums in a vector of 16 floats: one fused multiply-add of a
// broadcast input with 16 weights per input value and pixel. Each level's file compiles the same tile
// (float_conv_tile.h) for its instructions: portable (SSE2, any x86-64 or other host), AVX2 + FMA, AVX-512.
#include <cstdint>

namespace resnet8::direct {

struct FloatConv {
  int32_t in_height = 0, in_width = 0, in_channels = 0;
  int32_t out_height = 0, out_width = 0, out_channels = 0;
  int32_t kernel = 1, stride = 1, pad_top = 0, pad_left = 0;
  int32_t padded_height = 0, padded_width = 0;  // the padded image's size in pixels
  bool relu = false;
  const float* weights = nullptr;  // packed as above
  const float* bias = nullptr;     // out_channels rounded up to 16, zero past out_channels
};

// Output rows row_begin .. row_end - 1 of `c` into `out` (NHWC, out_channels a pixel), from `padded`.
using ConvRows = void (*)(const FloatConv& c, const float* padded, float* out, int32_t row_begin, int32_t row_end);

void conv_rows_portable(const FloatConv& c, const float* padded, float* out, int32_t row_begin, int32_t row_end);
void conv_rows_avx2(const FloatConv& c, const float* padded, float* out, int32_t row_begin, int32_t row_end);
void conv_rows_avx512(const FloatConv& c, const float* padded, float* out, int32_t row_begin, int32_t row_end);

}  // namespace resnet8::direct
