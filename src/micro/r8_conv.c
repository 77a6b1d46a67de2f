/* CONV_2D int8, per-channel weights: tflite::reference_integer_ops::ConvPerChannel (dilation 1, one
 * group), to the bit. TFLM skips the taps outside the image; here each output pixel's input patch is
 * gathered with those taps set to the input zero point (-input_offset), where filter x (input + offset)
 * is 0, so the sum is the same. It is formed as filter . patch + input_offset x (the filter's sum): integer
 * arithmetic, so again the same, and the inner loop is one plain int8 dot product per output, which
 * compilers vectorize. */
#include "r8_fixedpoint.h"
#include "r8_kernels.h"

/* One output channel's filter as int8: the weights themselves, or `buffer` filled from packed int4. */
static const int8_t* r8_filter(const r8_conv_params* p, int32_t oc, int32_t size, int8_t* buffer) {
  int32_t i;
  if (!p->weights_int4) return p->weights + oc * size;
  for (i = 0; i < size && i < R8_MAX_FILTER; ++i) buffer[i] = (int8_t)r8_weight(p->weights, 1, oc * size + i);
  return buffer;
}

/* The patch of output pixel (oy, ox): kernel_h rows of kernel_w x channels, taps outside the image at the
 * input zero point. */
static void r8_patch(const r8_conv_params* p, const int8_t* input, int32_t oy, int32_t ox, int8_t* patch) {
  const int32_t c = p->input.channels, y0 = oy * p->stride_h - p->pad_top, x0 = ox * p->stride_w - p->pad_left;
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

R8_HOT void r8_conv(const r8_conv_params* p, const int8_t* input, int8_t* output) {
  const int32_t size = p->kernel_h * p->kernel_w * p->input.channels, channels = p->output.channels;
  int8_t patch[R8_MAX_FILTER], buffer[R8_MAX_FILTER];
  int32_t filter_sum[R8_MAX_CHANNELS];
  int32_t oc, oy, ox, i;
  if (size > R8_MAX_FILTER || channels > R8_MAX_CHANNELS) return; /* refused when the parameters are made */
  for (oc = 0; oc < channels; ++oc) {
    const int8_t* f = r8_filter(p, oc, size, buffer);
    filter_sum[oc] = 0;
    for (i = 0; i < size; ++i) filter_sum[oc] += f[i];
  }
  for (oy = 0; oy < p->output.height; ++oy) {
    for (ox = 0; ox < p->output.width; ++ox) {
      int8_t* out = output + (oy * p->output.width + ox) * channels;
      int32_t dots[R8_MAX_CHANNELS];
      r8_patch(p, input, oy, ox, patch);
      for (oc = 0; oc < channels; ++oc) {
        int32_t acc;
        if (!p->weights_int4 && oc % 4 == 0 && oc + 4 <= channels)
          r8_dot4(patch, p->weights + oc * size, size, dots + oc);
        if (p->weights_int4 || oc >= channels / 4 * 4) dots[oc] = r8_dot(patch, r8_filter(p, oc, size, buffer), size);
        acc = dots[oc] + p->input_offset * filter_sum[oc];
        acc += p->bias[oc];
        acc = r8_mbqm(acc, p->multiplier[oc], p->shift[oc]) + p->output_offset;
        out[oc] = (int8_t)(acc < p->act_min ? p->act_min : acc > p->act_max ? p->act_max : acc);
      }
    }
  }
}
