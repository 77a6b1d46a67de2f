// The direct float convolution built for the avx2 level (float_conv.h): 4 output pixels a tile, Vec8.
#include "run/float_conv_tile.h"

namespace resnet8::direct {

void conv_rows_avx2(const FloatConv& c, const float* padded, float* out, int32_t row_begin, int32_t row_end) {
  conv_rows<Vec8, 4>(c, padded, out, row_begin, row_end);
}

}  // namespace resnet8::direct
