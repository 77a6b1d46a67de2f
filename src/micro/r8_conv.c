/* CONV_2D int8, per-channel weights: tflite::reference_integer_ops::ConvPerChannel (dilation 1, one
 * group), to the bit, with an optional fused ADD after it (r8_kernels.h).
 *
 * TFLM skips the taps outside the image; here each output pixel's input patch is gathered with those taps
 * at the input zero point (-input_offset), where weight x (input + offset) is 0, so the sum is the same.
 * TFLM's sum of weight x (input + offset) is formed as weight . input plus offset x (the channel's weight
 * sum), the latter folded into the bias when the parameters are prepared: integer arithmetic, so again the
 * same sum, and the inner loop is a plain dot product of int8 values.
 *
 * Two inner loops compute it: a portable one (host compilers vectorize it), and on Arm cores with the DSP
 * extension one that takes two output pixels and two channels at a time and multiplies 16-bit pairs with
 * SMLAD (CMSIS-NN's scheme). The second is checked against the first in QEMU (scripts/mcu.sh). */
#include "r8_fixedpoint.h"
#include "r8_kernels.h"

#if defined(__ARM_FEATURE_DSP) && !defined(R8_NO_DSP)
#include <arm_acle.h>
#define R8_DSP 1
#endif

/* The convolution's int8 output for channel oc from its dot product; with a fused ADD, the ADD's result
 * for that element, `residual` being the ADD's other input. */
static int8_t r8_conv_result(const r8_conv_params* p, int32_t oc, int32_t dot, int32_t residual) {
  int32_t out = r8_mbqm(dot + p->bias[oc], p->multiplier[oc], p->shift[oc]) + p->output_offset;
  out = r8_clamp(out, p->act_min, p->act_max);
  if (p->add) out = p->add_input == 1 ? r8_add_element(p->add, out, residual) : r8_add_element(p->add, residual, out);
  return (int8_t)out;
}

#ifndef R8_DSP

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

/* Channel oc's packed int4 filter as int8 in `out` (r8_weight's layout: byte k of a group of four holds
 * weight k low and weight k + 4 high); a nibble n is the int4 value (n ^ 8) - 8. */
R8_HOT static void r8_unpack(const int8_t* packed, int32_t stride, int8_t* out) {
  int32_t g, k;
  for (g = 0; g < stride / 8; ++g) {
    for (k = 0; k < 4; ++k) {
      const uint32_t byte = (uint8_t)packed[g * 4 + k];
      out[g * 8 + k] = (int8_t)((int32_t)((byte & 0x0Fu) ^ 8u) - 8);
      out[g * 8 + k + 4] = (int8_t)((int32_t)((byte >> 4) ^ 8u) - 8);
    }
  }
}

/* Output pixels a block at a time: their patches gathered once, each group of four filters (unpacked once
 * for int4) applied to all of them. */
#define R8_PIXELS 4

R8_HOT void r8_conv(const r8_conv_params* p, const int8_t* input, int8_t* output, int8_t* scratch) {
  const int32_t stride = r8_filter_stride(p->kernel_h * p->kernel_w * p->input.channels);
  const int32_t channels = p->output.channels, pixels = p->output.height * p->output.width;
  int8_t* const unpacked = scratch + R8_PIXELS * stride; /* int4: four filters as int8 */
  int32_t first, n_pixels, px, oc, k;
  for (first = 0; first < pixels; first += n_pixels) {
    n_pixels = pixels - first < R8_PIXELS ? pixels - first : R8_PIXELS;
    for (px = 0; px < n_pixels; ++px) {
      r8_patch(p, input, (first + px) / p->output.width, (first + px) % p->output.width, scratch + px * stride);
    }
    for (oc = 0; oc < channels; oc += 4) {
      const int32_t n = channels - oc < 4 ? channels - oc : 4;
      const int8_t* filters = p->weights + oc * stride;
      if (p->weights_int4) {
        for (k = 0; k < n; ++k) r8_unpack(p->weights + (oc + k) * (stride / 2), stride, unpacked + k * stride);
        filters = unpacked;
      }
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

#else /* R8_DSP */

static uint32_t r8_load32(const void* p) {
  uint32_t v;
  __builtin_memcpy(&v, p, 4);
  return v;
}

/* Bytes 1 and 3 of x, sign-extended to two 16-bit halves (SXTB16 with ROR #8, one instruction). */
static int32_t r8_sxtb16_ror8(uint32_t x) {
  int32_t r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
  return r;
}

/* Patch element i of the output pixel whose window starts at (y0, x0): the input, the input zero point
 * outside the image, 0 past the filter. */
static int32_t r8_patch_value(const r8_conv_params* p, const int8_t* input, int32_t y0, int32_t x0, int32_t i) {
  const int32_t c = p->input.channels, tap = i / c, y = y0 + tap / p->kernel_w, x = x0 + tap % p->kernel_w;
  if (i >= p->kernel_h * p->kernel_w * c) return 0;
  if (y < 0 || y >= p->input.height || x < 0 || x >= p->input.width) return -p->input_offset;
  return input[(y * p->input.width + x) * c + i % c];
}

/* The patch of one output pixel as 16-bit pairs for SMLAD: for every four inputs x0..x3 the words
 * (x0, x2) and (x1, x3), the order SXTB16 gives four int8 weights in, written two words every four, so
 * that the other pixel's pairs interleave (`words` + 2). Taps outside the image are the input zero point,
 * the inputs past the filter 0. */
static void r8_patch16(const r8_conv_params* p, const int8_t* input, int32_t pixel, uint32_t* words) {
  const int32_t c = p->input.channels, size = p->kernel_h * p->kernel_w * c, stride = r8_filter_stride(size);
  const int32_t y0 = pixel / p->output.width * p->stride_h - p->pad_top;
  const int32_t x0 = pixel % p->output.width * p->stride_w - p->pad_left;
  const uint32_t zero_pair = (uint32_t)(uint16_t)(int16_t)(-p->input_offset) * 0x10001u;
  uint32_t* w = words;
  int32_t ky, kx, i;
  if (c % 4 != 0) { /* e.g. an RGB input's 3 channels: element by element */
    for (i = 0; i < stride; i += 4, w += 4) {
      const int32_t v0 = r8_patch_value(p, input, y0, x0, i), v1 = r8_patch_value(p, input, y0, x0, i + 1);
      const int32_t v2 = r8_patch_value(p, input, y0, x0, i + 2), v3 = r8_patch_value(p, input, y0, x0, i + 3);
      w[0] = (uint32_t)(uint16_t)v0 | (uint32_t)v2 << 16;
      w[1] = (uint32_t)(uint16_t)v1 | (uint32_t)v3 << 16;
    }
    return;
  }
  for (ky = 0; ky < p->kernel_h; ++ky) {
    const int32_t y = y0 + ky;
    for (kx = 0; kx < p->kernel_w; ++kx) {
      const int32_t x = x0 + kx;
      if (y < 0 || y >= p->input.height || x < 0 || x >= p->input.width) {
        for (i = 0; i < c; i += 4, w += 4) w[0] = w[1] = zero_pair;
      } else {
        const int8_t* from = input + (y * p->input.width + x) * c;
        for (i = 0; i < c; i += 4, w += 4) {
          const uint32_t v = r8_load32(from + i);
          w[0] = (uint32_t)__sxtb16((int32_t)v);
          w[1] = (uint32_t)r8_sxtb16_ror8(v);
        }
      }
    }
  }
  for (i = size; i < stride; i += 4, w += 4) w[0] = w[1] = 0;
}

/* The assembly of the two dot-product loops below, in named pieces. Registers: p0/p1 a word of four
 * weights of filter 0/1 on entry, e0/e1 and p0/p1 their even and odd weights as 16-bit pairs after
 * R8_ASM_PAIRS; x0/x1 a word pair of the interleaved patches (pixel a's, then pixel b's); a0/a1 and b0/b1
 * the four sums. */
#define R8_ASM_PAIRS                \
  "sxtb16 %[e0], %[p0]\n\t"         \
  "sxtb16 %[p0], %[p0], ror #8\n\t" \
  "sxtb16 %[e1], %[p1]\n\t"         \
  "sxtb16 %[p1], %[p1], ror #8\n\t"
/* The four weights' products with pixel a's next four inputs (already in x0/x1), then pixel b's. */
#define R8_ASM_SMLAD_A                   \
  "smlad %[a0], %[e0], %[x0], %[a0]\n\t" \
  "smlad %[a0], %[p0], %[x1], %[a0]\n\t" \
  "smlad %[a1], %[e1], %[x0], %[a1]\n\t" \
  "smlad %[a1], %[p1], %[x1], %[a1]\n\t"
#define R8_ASM_SMLAD_B                   \
  "ldrd %[x0], %[x1], [%[ab]], #8\n\t"   \
  "smlad %[b0], %[e0], %[x0], %[b0]\n\t" \
  "smlad %[b0], %[p0], %[x1], %[b0]\n\t" \
  "smlad %[b1], %[e1], %[x0], %[b1]\n\t" \
  "smlad %[b1], %[p1], %[x1], %[b1]\n\t"
/* int4: the masked nibbles of p0/p1 (four weights times 16) through both pixels. */
#define R8_ASM_INT4_HALF              \
  "and %[p0], %[p0], #0xF0F0F0F0\n\t" \
  "and %[p1], %[p1], #0xF0F0F0F0\n\t" R8_ASM_PAIRS "ldrd %[x0], %[x1], [%[ab]], #8\n\t" R8_ASM_SMLAD_A R8_ASM_SMLAD_B
#define R8_ASM_OPERANDS                                                                                              \
  : [a0] "+r"(a0), [a1] "+r"(a1), [b0] "+r"(b0), [b1] "+r"(b1), [w0] "+r"(w0), [w1] "+r"(w1), [ab] "+r"(ab),     \
    [n] "+r"(groups), [p0] "=&r"(p0), [p1] "=&r"(p1), [e0] "=&r"(e0), [e1] "=&r"(e1), [x0] "=&r"(x0), [x1] "=&r"(x1) \
  :                                                                                                              \
  : "cc", "memory"

/* acc = {pixel a . filter 0, pixel a . filter 1, pixel b . filter 0, pixel b . filter 1} for int8 filters
 * (`groups` of four weights) and the interleaved patches `ab`: two 16-bit products per SMLAD, 16
 * multiply-accumulates in 18 instructions. Written in assembly because at -Os the compiler spills. */
static void r8_dot_2x2_int8(const int8_t* w0, const int8_t* w1, const uint32_t* ab, int32_t groups, int32_t* acc) {
  int32_t a0 = 0, a1 = 0, b0 = 0, b1 = 0;
  uint32_t p0, p1, e0, e1, x0, x1;
  __asm__ volatile(
      "1:\n\t"
      "ldr %[p0], [%[w0]], #4\n\t"
      "ldr %[p1], [%[w1]], #4\n\t"
      "ldrd %[x0], %[x1], [%[ab]], #8\n\t" R8_ASM_PAIRS R8_ASM_SMLAD_A R8_ASM_SMLAD_B
      "subs %[n], %[n], #1\n\t"
      "bne 1b\n\t" R8_ASM_OPERANDS);
  acc[0] = a0, acc[1] = a1, acc[2] = b0, acc[3] = b1;
}

/* The same for packed int4 filters (`groups` of eight weights, four bytes): a load and a mask give four
 * weights times 16 (the low nibbles shifted up, or the high ones), so the sums come out times 16 and are
 * divided exactly. 32 multiply-accumulates in 40 instructions. */
static void r8_dot_2x2_int4(const int8_t* w0, const int8_t* w1, const uint32_t* ab, int32_t groups, int32_t* acc) {
  int32_t a0 = 0, a1 = 0, b0 = 0, b1 = 0;
  uint32_t p0, p1, e0, e1, x0, x1;
  __asm__ volatile(
      "1:\n\t"
      "ldr %[p0], [%[w0]]\n\t"
      "ldr %[p1], [%[w1]]\n\t"
      "lsl %[p0], %[p0], #4\n\t"
      "lsl %[p1], %[p1], #4\n\t" R8_ASM_INT4_HALF
      "ldr %[p0], [%[w0]], #4\n\t"
      "ldr %[p1], [%[w1]], #4\n\t" R8_ASM_INT4_HALF
      "subs %[n], %[n], #1\n\t"
      "bne 1b\n\t" R8_ASM_OPERANDS);
  acc[0] = a0 >> 4, acc[1] = a1 >> 4, acc[2] = b0 >> 4, acc[3] = b1 >> 4;
}

void r8_conv(const r8_conv_params* p, const int8_t* input, int8_t* output, int8_t* scratch) {
  const int32_t stride = r8_filter_stride(p->kernel_h * p->kernel_w * p->input.channels);
  const int32_t channels = p->output.channels, pixels = p->output.height * p->output.width;
  const int32_t filter_bytes = p->weights_int4 ? stride / 2 : stride;
  uint32_t* const patches = (uint32_t*)(void*)scratch; /* stride words: two pixels' pairs interleaved */
  int32_t pixel, oc;
  for (pixel = 0; pixel < pixels; pixel += 2) {
    const int32_t two = pixel + 1 < pixels;
    int8_t* out_a = output + pixel * channels;
    int8_t* out_b = out_a + channels;
    r8_patch16(p, input, pixel, patches);
    r8_patch16(p, input, two ? pixel + 1 : pixel, patches + 2);
    for (oc = 0; oc < channels; oc += 2) {
      const int32_t pair = oc + 1 < channels;
      const int8_t* w0 = p->weights + oc * filter_bytes;
      const int8_t* w1 = pair ? w0 + filter_bytes : w0;
      int32_t acc[4];
      if (p->weights_int4)
        r8_dot_2x2_int4(w0, w1, patches, stride / 8, acc);
      else
        r8_dot_2x2_int8(w0, w1, patches, stride / 4, acc);
      out_a[oc] = r8_conv_result(p, oc, acc[0], p->add ? out_a[oc] : 0);
      if (pair) out_a[oc + 1] = r8_conv_result(p, oc + 1, acc[1], p->add ? out_a[oc + 1] : 0);
      if (two) {
        out_b[oc] = r8_conv_result(p, oc, acc[2], p->add ? out_b[oc] : 0);
        if (pair) out_b[oc + 1] = r8_conv_result(p, oc + 1, acc[3], p->add ? out_b[oc + 1] : 0);
      }
    }
  }
}

#endif /* R8_DSP */
