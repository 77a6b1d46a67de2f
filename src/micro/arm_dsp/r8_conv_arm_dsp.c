/* CONV_2D, the Arm DSP variant (Cortex-M4, M7, M33, ...: __ARM_FEATURE_DSP): the same integers as the reference
 * variant, two output pixels at a time.
 *   1. Both pixels' patches, gathered by rows of the kernel window (a run of taps inside the image is one run of
 *      input bytes), widened to 16-bit pairs by SXTB16 and interleaved for the inner loops: per four inputs
 *      x0..x3, pixel a's (x0, x2) and (x1, x3), then pixel b's. Taps outside the image hold the input zero
 *      point, inputs past the filter 0. For int4 filters every other group of four is scaled, (x0, x2) by 256
 *      and (x1, x3) by 16, to meet the nibbles' places (r8_conv_arm_dsp_dot.c), and the patch's sum is kept.
 *   2. Every pair of output channels' four dot products (r8_dsp_dot_int8 / _int4, assembly on the core).
 *   3. Each output by r8_arm_dsp.h's short requantization when the layer allows it (r8_conv_params'
 *      fast_requant), else by r8_conv_output.h's; a fused ADD likewise.
 * Checked against the reference variant on the same inputs on the host (C in place of the assembly) and in
 * QEMU (tests/micro/variants_check.c), and the whole model against the host in QEMU (scripts/mcu.sh). */
#include "r8_kernels.h"
#include "r8_variants.h"

/* Scratch: the two pixels' interleaved patches (4 x stride bytes), their dot products (8 bytes a channel), the
 * requantizations (16 bytes a channel), one int8 patch (stride bytes), one pixel's outputs before a fused ADD
 * (a byte a channel). */
int32_t r8_conv_scratch_bytes_arm_dsp(const r8_conv_params* p) {
  const int32_t stride = r8_filter_stride(p->kernel_h * p->kernel_w * p->input.channels);
  return 5 * stride + 25 * p->output.channels;
}

#if R8_COMPILE(R8_CONV_ARM_DSP)
#include "r8_arm_dsp.h"
#include "r8_conv_output.h"
#include "r8_conv_plain.h"
#include "r8_conv_window.h"

/* Inputs k .. k + n - 1 of a patch (k and n multiples of 4) from `from` as 16-bit pairs into `words` (pixel a's
 * or b's slots), eight a pass after the first four when n / 4 is odd. */
static void r8_widen(const int8_t* from, int32_t k, int32_t n, uint32_t* words) {
  const int8_t* const end = from + n;
  uint32_t* w = words + k;
  if (n & 4) {
    const uint32_t v = r8_load32(from);
    w[0] = r8_sxtb16(v), w[1] = r8_sxtb16_ror8(v);
    from += 4, w += 4;
  }
  if (from < end) {
    do { /* tested at the end: one branch a pass */
      const uint32_t v = r8_load32(from), u = r8_load32(from + 4);
      w[0] = r8_sxtb16(v), w[1] = r8_sxtb16_ror8(v), w[4] = r8_sxtb16(u), w[5] = r8_sxtb16_ror8(u);
      from += 8, w += 8;
    } while (from < end);
  }
}

/* The same for int4 filters, one group of four: scaled ((x0, x2) by 256 and (x1, x3) by 16, lane by lane) for
 * the groups at even k / 4, as is for the odd; adds the inputs to `*sum`. */
R8_INLINE void r8_widen_int4_group(const int8_t* from, int32_t scaled, uint32_t* w, int32_t* sum) {
  const uint32_t v = r8_load32(from), even = r8_sxtb16(v), odd = r8_sxtb16_ror8(v);
  *sum = r8_smlad(even, 0x00010001u, r8_smlad(odd, 0x00010001u, *sum));
  w[0] = scaled ? (v << 8) & 0xFF00FF00u : even;
  w[1] = scaled ? (odd << 4) & ~0x000F0000u : odd;
}

/* Inputs k .. k + n - 1 for int4 filters, a scaled and an unscaled group a pass; returns the inputs' sum. */
static int32_t r8_widen_int4(const int8_t* from, int32_t k, int32_t n, uint32_t* words) {
  const int8_t* const end = from + n;
  uint32_t* w = words + k;
  int32_t sum = 0;
  if (n > 0 && (k & 4)) r8_widen_int4_group(from, 0, w, &sum), from += 4, w += 4;
  if (end - from >= 8) {
    do {
      r8_widen_int4_group(from, 1, w, &sum);
      r8_widen_int4_group(from + 4, 0, w + 4, &sum);
      from += 8, w += 8;
    } while (end - from >= 8);
  }
  if (from < end) r8_widen_int4_group(from, 1, w, &sum);
  return sum;
}

/* How a layer's patches are gathered: its window's geometry, and four inputs at the zero point as r8_widen /
 * r8_widen_int4 give them (zero[0], zero[1] at even k / 4, zero[2], zero[3] at odd). */
typedef struct {
  const r8_conv_params* p;
  int32_t row, size, stride; /* a window row's inputs, the filter's, the stride */
  uint32_t zero[4];
} r8_dsp_gather;

static void r8_dsp_gather_of(const r8_conv_params* p, r8_dsp_gather* g) {
  int8_t eight[8];
  uint32_t words[8];
  r8_fill_bytes(eight, (int8_t)-p->input_offset, (int32_t)sizeof eight);
  g->p = p;
  g->row = p->kernel_w * p->input.channels;
  g->size = p->kernel_h * g->row;
  g->stride = r8_filter_stride(g->size);
  if (p->weights_int4) {
    r8_widen_int4(eight, 0, 8, words);
  } else {
    r8_widen(eight, 0, 8, words);
  }
  g->zero[0] = words[0], g->zero[1] = words[1], g->zero[2] = words[4], g->zero[3] = words[5];
}

/* Inputs k .. k + n - 1 (multiples of 4) at the zero point. */
static void r8_widen_zero(const r8_dsp_gather* g, int32_t k, int32_t n, uint32_t* words) {
  uint32_t* w = words + k;
  for (; n > 0; n -= 4, k += 4, w += 4) {
    w[0] = g->zero[k & 4 ? 2 : 0];
    w[1] = g->zero[k & 4 ? 3 : 1];
  }
}

/* Output pixel `pixel`'s patch into `words` (+ 0 for pixel a, + 2 for b): by rows of the window when the
 * channels are a multiple of 4, else through the int8 patch in `bytes`. Returns the sum of its inputs (int4). */
static int32_t r8_dsp_patch(const r8_dsp_gather* g, const int8_t* input, int32_t pixel, uint32_t* words,
                            int8_t* bytes) {
  const r8_conv_params* const p = g->p;
  const int32_t int4 = p->weights_int4, row = g->row, ch = p->input.channels, zero = -p->input_offset;
  int32_t sum = 0, ky, k, i, left, run, x_lo, x_hi, at;
  r8_corner c;
  if (ch % 4 != 0) {
    r8_patch_bytes(g->p, input, pixel, bytes);
    if (int4) return r8_widen_int4(bytes, 0, g->stride, words);
    r8_widen(bytes, 0, g->stride, words);
    return 0;
  }
  /* Every row of the window has the same columns inside the image: `left` inputs before them, `run` inside. */
  c = r8_corner_of(p, pixel);
  x_lo = c.x < 0 ? -c.x : 0, x_hi = c.x + p->kernel_w > p->input.width ? p->input.width - c.x : p->kernel_w;
  left = x_lo * ch, run = x_hi > x_lo ? (x_hi - x_lo) * ch : 0;
  at = (c.y * p->input.width + c.x + x_lo) * ch;
  for (ky = 0, k = 0; ky < p->kernel_h; ++ky, k += row, at += p->input.width * ch) {
    if (c.y + ky < 0 || c.y + ky >= p->input.height || run == 0) {
      r8_widen_zero(g, k, row, words);
      sum += row * zero;
      continue;
    }
    r8_widen_zero(g, k, left, words);
    if (int4) {
      sum += r8_widen_int4(input + at, k + left, run, words) + (row - run) * zero;
    } else {
      r8_widen(input + at, k + left, run, words);
    }
    r8_widen_zero(g, k + left + run, row - left - run, words);
  }
  for (i = g->size; i < g->stride; i += 4) words[i] = words[i + 1] = 0;
  return sum;
}

/* int4 sums are 256 x the nibbles' products, n = w + 8: the dot products are sum / 256 - 8 x the patch's sum. */
static void r8_dsp_int4_dots(int32_t* sums, int32_t n, int32_t patch_sum) {
  const int32_t* const end = sums + n;
  const int32_t eight = 8 * patch_sum;
  do { /* n >= 1 */
    *sums = (*sums >> 8) - eight;
  } while (++sums < end);
}

/* One pixel's outputs from its dot products by r8_conv_output.h's general step. */
static void r8_dsp_outputs(const r8_conv_params* p, const int32_t* dots, int8_t* out) {
  int32_t oc;
  for (oc = 0; oc < p->output.channels; ++oc) out[oc] = r8_conv_result(p, oc, dots[oc], p->add ? out[oc] : 0);
}

/* One pixel's `n` outputs by the short requantization (r8_arm_dsp.h): `q` the layer's (fast_requant). */
R8_NOINLINE void r8_dsp_requant_row(const int32_t* dots, const int32_t* bias, const r8_requant* q, int32_t n,
                                    const r8_conv_params* p, int8_t* out) {
  const int32_t offset = p->output_offset, lo = p->act_min, hi = p->act_max;
  const int8_t* const end = out + n;
  do { /* n >= 1; a loop tested at its end takes one branch an output, not two */
    int32_t v = r8_requant_fast(*dots++ + *bias++, q++) + offset;
    v = v < lo ? lo : v; /* conditional moves: a branch costs more */
    *out++ = (int8_t)(v > hi ? hi : v);
  } while (out < end);
}

/* The fused ADD of one pixel by its short form: `conv` the convolution's outputs, `out` the other input, then the
 * sums. */
R8_NOINLINE void r8_dsp_add_row(const r8_add_fast* add, int32_t conv_first, const int8_t* conv, int32_t n,
                                int8_t* out) {
  const r8_add_fast f = *add; /* a copy the stores to `out` cannot alias */
  const int8_t* const end = conv + n;
  do { /* n >= 1 */
    *out = (int8_t)(conv_first ? r8_add_fast_element(&f, *conv, *out) : r8_add_fast_element(&f, *out, *conv));
    ++conv, ++out;
  } while (conv < end);
}

/* Both pixels' outputs (one when `two` is 0) by the short forms: `add` the fused ADD's or NULL, `conv` scratch
 * for a pixel's convolution outputs before the ADD. */
static void r8_dsp_outputs_fast(const r8_conv_params* p, const r8_requant* q, const r8_add_fast* add,
                                const int32_t* dots, int32_t two, int8_t* out, int8_t* conv) {
  const int32_t channels = p->output.channels;
  int32_t i;
  for (i = 0; i <= two; ++i, dots += channels, out += channels) {
    r8_dsp_requant_row(dots, p->bias, q, channels, p, add ? conv : out);
    if (add) r8_dsp_add_row(add, p->add_input == 1, conv, channels, out);
  }
}

/* The dot products of pixels `pixel` and `pixel` + 1 (or `pixel` twice, the last of an odd count) with every
 * channel into dots[0 .. channels - 1] (pixel a) and dots[channels ..] (pixel b). */
static void r8_dsp_dots(const r8_dsp_gather* g, const int8_t* input, int32_t pixel, int32_t two, uint32_t* patches,
                        int32_t* dots, int8_t* bytes) {
  const r8_conv_params* p = g->p;
  const int32_t channels = p->output.channels, pairs = channels / 2;
  const int32_t row_bytes = p->weights_int4 ? g->stride / 2 : g->stride;
  const int32_t sum_a = r8_dsp_patch(g, input, pixel, patches, bytes);
  const int32_t sum_b = r8_dsp_patch(g, input, two ? pixel + 1 : pixel, patches + 2, bytes);
  if (pairs > 0) {
    (p->weights_int4 ? r8_dsp_dot_int4 : r8_dsp_dot_int8)(p->weights, patches, g->stride, pairs, dots, dots + channels);
  }
  if (channels & 1) {
    r8_dsp_dot_rows(p->weights + pairs * 2 * row_bytes, 4, 1, p->weights_int4, patches, g->stride, dots + channels - 1,
                    dots + 2 * channels - 1);
  }
  if (p->weights_int4) r8_dsp_int4_dots(dots, channels, sum_a), r8_dsp_int4_dots(dots + channels, channels, sum_b);
}

void r8_conv_arm_dsp(const r8_conv_params* p, const int8_t* input, int8_t* output, int8_t* scratch) {
  const int32_t channels = p->output.channels, pixels = p->output.height * p->output.width;
  r8_dsp_gather g;
  r8_add_fast add;
  int32_t pixel, oc, fast;
  uint32_t* const patches = (uint32_t*)(void*)scratch;
  int32_t* dots;
  r8_requant* q;
  int8_t* bytes;
  r8_dsp_gather_of(p, &g);
  dots = (int32_t*)(void*)(scratch + 4 * g.stride);
  q = (r8_requant*)(void*)(dots + 2 * channels);
  bytes = (int8_t*)(q + channels);
  if (p->weights_int4 && g.stride > 4096) {
    r8_conv_plain(p, input, output, bytes); /* int4 rows so long that 256 n x sums could pass 2^31 */
    return;
  }
  fast = p->fast_requant && (!p->add || r8_add_fast_of(p->add, &add));
  for (oc = 0; fast && oc < channels; ++oc) q[oc] = r8_requant_of(p->multiplier[oc], p->shift[oc]);
  for (pixel = 0; pixel < pixels; pixel += 2, output += 2 * channels) {
    const int32_t two = pixel + 1 < pixels;
    r8_dsp_dots(&g, input, pixel, two, patches, dots, bytes);
    if (fast) {
      r8_dsp_outputs_fast(p, q, p->add ? &add : (const r8_add_fast*)0, dots, two, output, bytes + g.stride);
    } else {
      r8_dsp_outputs(p, dots, output);
      if (two) r8_dsp_outputs(p, dots + channels, output + channels);
    }
  }
}

#endif
