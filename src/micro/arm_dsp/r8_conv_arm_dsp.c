/* CONV_2D, the Arm DSP variant (Cortex-M4, M7, M33, ...: __ARM_FEATURE_DSP): two output pixels and two
 * channels at a time, 16-bit pairs multiplied with SMLAD (CMSIS-NN's scheme). The same integers as the
 * reference variant: the same patch (taps outside the image at the input zero point) and the same output
 * step (r8_conv_output.h); checked against it in QEMU (scripts/mcu.sh). */
#include "r8_kernels.h"
#include "r8_variants.h"

/* Two patches of 16-bit inputs, interleaved. */
int32_t r8_conv_scratch_bytes_arm_dsp(const r8_conv_params* p) {
  return 4 * r8_filter_stride(p->kernel_h * p->kernel_w * p->input.channels);
}

#if R8_COMPILE(R8_CONV_ARM_DSP) && defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>
#include "r8_conv_output.h"

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

void r8_conv_arm_dsp(const r8_conv_params* p, const int8_t* input, int8_t* output, int8_t* scratch) {
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

#endif
