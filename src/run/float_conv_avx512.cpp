// The direct float convolution built for the avx512 level (float_conv.h): 8 output pixels a tile, Vec16.
#include "run/float_conv_tile.h"

namespace resnet8::direct {

void conv_rows_avx512(const FloatConv& c, const float* padded, float* out, int32_t row_begin, int32_t row_end) {
  conv_rows<Vec16, 8>(c, padded, out, row_begin, row_end);
}

}  // namespace resnet8::direct
