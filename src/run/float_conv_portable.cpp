// The direct float convolution built for the portable level (float_conv.h): 2 output pixels a tile, Vec4.
#include "run/float_conv_tile.h"

namespace resnet8::direct {

void conv_rows_portable(const FloatConv& c, const float* padded, float* out, int32_t row_begin, int32_t row_end) {
  conv_rows<Vec4, 2>(c, padded, out, row_begin, row_end);
}

}  // namespace resnet8::direct
