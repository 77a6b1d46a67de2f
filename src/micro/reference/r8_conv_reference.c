/* CONV_2D, the reference variant: portable C99 (host compilers vectorize its inner loops), the oracle the
 * other variants are tested against.
 *
 * TFLM skips the taps outside the image; here each output pixel's input patch is gathered with those taps
 * at the input zero point (-input_offset), where weight x (input + offset) is 0, so the sum is the same.
 * TFLM's sum of weight x (input + offset) is formed as weight . input plus offset x (the channel's weight
 * sum), the latter folded into the bias when the parameters are prepared: integer arithmetic, so again the
 * same sum, and the inner loop is a plain dot product of int8 values. */
#include "r8_kernels.h"
#include "r8_variants.h"

/* Four int8 patches and four filters unpacked to contiguous int8 rows. */
int32_t r8_conv_scratch_bytes_reference(const r8_conv_params* p) {
  return 8 * r8_filter_stride(p->kernel_h * p->kernel_w * p->input.channels);
}

#if R8_COMPILE(R8_CONV_REFERENCE)
#include "r8_conv_output.h"

/* The patch of output pixel (oy, ox) in int8: kernel_h rows of kernel_w x channels, taps outside the image
 * at the input zero point, zeros up to the filter stride. */
static void r8_patch(const r8_conv_params* p, const int8_t* input, int32_t oy, int32_t ox, int8_t* patch) {
  const int32_t c = p->input.channels, y0 = oy * p->stride_h - p->pad_top, x0 = ox * p->stride_w - p->pad_left;
  const int32_t size = p->kernel_h * p->kernel_w * c, stride = r8_filter_stride(size);
  const int8_t zero_point = (int8_t)(-p->input_offset);
  int32_t ky, kx, i;
  for (ky = 0; ky < p->kernel_h; ++ky) {
    const int32_t y = y0 + ky;
    for (kx = 0; kx < p->kernel_w; ++kx) {
      const int32_t x = x0 + kx;
      int8_t* to = patch + (ky * p->kernel_w + kx) * c;
      if (y < 0 || y >= p->input.height || x < 0 || x >= p->input.width) {
        for (i = 0; i < c; ++i) to[i] = zero_point;
      } else {
        const int8_t* from = input + (y * p->input.width + x) * c;
        for (i = 0; i < c; ++i) to[i] = from[i];
      }
    }
  }
  for (i = size; i < stride; ++i) patch[i] = 0;
}

R8_HOT static int32_t r8_dot(const int8_t* a, const int8_t* b, int32_t n) {
  int32_t acc = 0, i;
  for (i = 0; i < n; ++i) acc += (int32_t)a[i] * (int32_t)b[i];
  return acc;
}

/* Four dot products of one patch with four consecutive int8 filters: the patch is read once. */
R8_HOT static void r8_dot4(const int8_t* a, const int8_t* b, int32_t n, int32_t* acc) {
  int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, i;
  for (i = 0; i < n; ++i) {
    const int32_t x = a[i];
    a0 += x * b[i];
    a1 += x * b[n + i];
    a2 += x * b[2 * n + i];
    a3 += x * b[3 * n + i];
  }
  acc[0] = a0;
  acc[1] = a1;
  acc[2] = a2;
  acc[3] = a3;
}

/* Rows oc .. oc + n - 1 of the filters as contiguous int8 rows of `stride` weights in `out`, from the kernels'
 * layout (r8_kernels.h: pairs of rows interleaved by 4-byte units; int4: byte j of a unit holds weights
 * first[j] and first[j] + 1 of its 8, as nibbles w + 8, low then high). */
R8_HOT static void r8_unpack(const r8_conv_params* p, int32_t stride, int32_t oc, int32_t n, int8_t* out) {
  static const int8_t first[4] = {0, 4, 2, 6};
  const int32_t channels = p->output.channels, row_bytes = p->weights_int4 ? stride / 2 : stride;
  int32_t k, u, j;
  for (k = 0; k < n; ++k) {
    const int32_t row = oc + k, alone = (row | 1) >= channels; /* the last row of an odd count is not paired */
    const int8_t* unit = p->weights + r8_weight_byte(channels, row_bytes, row, 0);
    int8_t* to = out + k * stride;
    for (u = 0; u < row_bytes / 4; ++u, unit += alone ? 4 : 8) {
      if (!p->weights_int4) {
        for (j = 0; j < 4; ++j) to[4 * u + j] = unit[j];
        continue;
      }
      for (j = 0; j < 4; ++j) {
        const uint32_t byte = (uint8_t)unit[j];
        to[8 * u + first[j]] = (int8_t)((int32_t)(byte & 0x0Fu) - 8);
        to[8 * u + first[j] + 1] = (int8_t)((int32_t)(byte >> 4) - 8);
      }
    }
  }
}

/* Output pixels a block at a time: their patches gathered once, each group of four filters unpacked once and
 * applied to all of them. */
#define R8_PIXELS 4

R8_HOT void r8_conv_reference(const r8_conv_params* p, const int8_t* input, int8_t* output, int8_t* scratch) {
  const int32_t stride = r8_filter_stride(p->kernel_h * p->kernel_w * p->input.channels);
  const int32_t channels = p->output.channels, pixels = p->output.height * p->output.width;
  int8_t* const filters = scratch + R8_PIXELS * stride; /* four filters as contiguous int8 rows */
  int32_t first, n_pixels, px, oc, k;
  for (first = 0; first < pixels; first += n_pixels) {
    n_pixels = pixels - first < R8_PIXELS ? pixels - first : R8_PIXELS;
    for (px = 0; px < n_pixels; ++px) {
      r8_patch(p, input, (first + px) / p->output.width, (first + px) % p->output.width, scratch + px * stride);
    }
    for (oc = 0; oc < channels; oc += 4) {
      const int32_t n = channels - oc < 4 ? channels - oc : 4;
      r8_unpack(p, stride, oc, n, filters);
      for (px = 0; px < n_pixels; ++px) {
        int8_t* out = output + (first + px) * channels + oc;
        int32_t dots[4];
        if (n == 4) {
          r8_dot4(scratch + px * stride, filters, stride, dots);
        } else {
          for (k = 0; k < n; ++k) dots[k] = r8_dot(scratch + px * stride, filters + k * stride, stride);
        }
        for (k = 0; k < n; ++k) out[k] = r8_conv_result(p, oc + k, dots[k], p->add ? out[k] : 0);
      }
    }
  }
}

#endif
