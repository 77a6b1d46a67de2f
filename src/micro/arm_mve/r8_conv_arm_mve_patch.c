/* CONV_2D, the Arm MVE (Helium) variant's patches (r8_arm_mve.h: r8_mve_gather_of, r8_mve_next_patches): each
 * output pixel's inputs, its window's rows one after another, taps outside the image at the input zero point, zeros
 * up to the filter stride, laid out as the dot products read them (r8_mve_shape). Copies by vectors in
 * tail-predicated loops (WLSTP / LETP); two windows inside the image in one pass. */
#include "r8_kernels.h"
#include "r8_variants.h"

#if R8_COMPILE_MVE(R8_CONV_ARM_MVE)
#include <arm_mve.h>

#include "r8_arm_mve.h"
#include "r8_conv_window.h"

/* The byte offsets, within 8 inputs, of the inputs an int4 unit's low nibbles hold (bytes 0..3: weights 0, 4,
 * 2, 6; the high nibbles 1, 5, 3, 7: one more), for 4 units; and of a tail step's inputs, 2 units each twice. */
static const uint8_t r8_mve_int4_order[16] = {0, 4, 2, 6, 8, 12, 10, 14, 16, 20, 18, 22, 24, 28, 26, 30};
static const uint8_t r8_mve_int4_twice[16] = {0, 4, 2, 6, 0, 4, 2, 6, 8, 12, 10, 14, 8, 12, 10, 14};
static const uint8_t r8_mve_int8_twice[16] = {0, 1, 2, 3, 0, 1, 2, 3, 4, 5, 6, 7, 4, 5, 6, 7};

/* The patch in the dot products' order (`slot`) from the patch in TFLite's order (`raw`). */
static void r8_mve_order(const r8_conv_params* p, const r8_mve_shape* s, const int8_t* raw, int8_t* slot) {
  const int32_t int4 = p->weights_int4, unit_inputs = int4 ? 8 : 4;
  const uint8x16_t order = vldrbq_u8(r8_mve_int4_order);
  const uint8x16_t twice = vldrbq_u8(int4 ? r8_mve_int4_twice : r8_mve_int8_twice);
  const uint8x16_t one = vdupq_n_u8(1);
  int32_t i, left;
  for (i = 0; i < s->chunks; ++i, raw += 4 * unit_inputs, slot += s->step_bytes) {
    if (!int4) {
      vstrbq_s8(slot, vldrbq_s8(raw)); /* int8: as it is */
      continue;
    }
    vstrbq_s8(slot, vldrbq_gather_offset_s8(raw, order));
    vstrbq_s8(slot + 16, vldrbq_gather_offset_s8(raw, vaddq_u8(order, one)));
  }
  for (left = s->tail; left > 0; left -= 2, raw += 2 * unit_inputs, slot += s->step_bytes) {
    const mve_pred16_t lanes = left > 1 ? 0xFFFF : 0x00FF; /* one unit left: its lanes only */
    vstrbq_s8(slot, vldrbq_gather_offset_z_s8(raw, twice, lanes));
    if (int4) vstrbq_s8(slot + 16, vldrbq_gather_offset_z_s8(raw, vaddq_u8(twice, one), lanes));
  }
}

/* n bytes at `to` set to v, or copied from `from`: 16 a step in a tail-predicated loop (WLSTP / LETP: the last
 * step's lanes past n are off; no step when n is 0). */
R8_INLINE void r8_mve_fill(int8_t* to, int8_t v, int32_t n) {
  __asm__ volatile(
      "vdup.8 q0, %[v]\n\t"
      "wlstp.8 lr, %[n], 2f\n"
      "1:\n\t"
      "vstrb.8 q0, [%[to]], #16\n\t"
      "letp lr, 1b\n"
      "2:\n\t"
      : [to] "+r"(to)
      : [v] "r"((int32_t)v), [n] "r"(n)
      : "q0", "lr", "memory");
}
R8_INLINE void r8_mve_copy(int8_t* to, const int8_t* from, int32_t n) {
  __asm__ volatile(
      "wlstp.8 lr, %[n], 2f\n"
      "1:\n\t"
      "vldrb.8 q0, [%[from]], #16\n\t"
      "vstrb.8 q0, [%[to]], #16\n\t"
      "letp lr, 1b\n"
      "2:\n\t"
      : [to] "+r"(to), [from] "+r"(from)
      : [n] "r"(n)
      : "q0", "lr", "memory");
}

/* Two windows inside the image, `rows` runs of `row` bytes `line` bytes apart from `from` and from `from` +
 * `apart`, one after another at `to` and at `to` + `slot`. */
static void r8_mve_copy_windows(int8_t* to, int32_t slot, const int8_t* from, int32_t apart, int32_t row, int32_t line,
                                int32_t rows) {
  const int8_t* src;
  int8_t* dst;
  __asm__ volatile(
      "1:\n\t"
      "mov %[src], %[from]\n\t"
      "mov %[dst], %[to]\n\t"
      "wlstp.8 lr, %[row], 3f\n"
      "2:\n\t"
      "vldrb.8 q0, [%[src]], #16\n\t"
      "vstrb.8 q0, [%[dst]], #16\n\t"
      "letp lr, 2b\n"
      "3:\n\t"
      "add %[src], %[from], %[apart]\n\t"
      "add %[dst], %[to], %[slot]\n\t"
      "wlstp.8 lr, %[row], 5f\n"
      "4:\n\t"
      "vldrb.8 q0, [%[src]], #16\n\t"
      "vstrb.8 q0, [%[dst]], #16\n\t"
      "letp lr, 4b\n"
      "5:\n\t"
      "add %[from], %[from], %[line]\n\t"
      "add %[to], %[to], %[row]\n\t"
      "subs %[rows], %[rows], #1\n\t"
      "bne 1b\n\t"
      : [to] "+r"(to), [from] "+r"(from), [rows] "+r"(rows), [src] "=&r"(src), [dst] "=&r"(dst)
      : [row] "r"(row), [line] "r"(line), [apart] "r"(apart), [slot] "r"(slot)
      : "q0", "lr", "cc", "memory");
}

/* Whether output pixel (oy, ox)'s window lies inside the image. */
R8_INLINE int r8_mve_inside(const r8_mve_gather* g, int32_t oy, int32_t ox) {
  return oy >= g->oy_lo && oy <= g->oy_hi && ox >= g->ox_lo && ox <= g->ox_hi;
}

/* The first input of output pixel (oy, ox)'s window (its top left tap; outside the image for a border pixel). */
R8_INLINE const int8_t* r8_mve_window(const r8_mve_gather* g, const int8_t* input, int32_t oy, int32_t ox) {
  const r8_conv_params* const p = g->p;
  return input +
         ((oy * p->stride_h - p->pad_top) * p->input.width + ox * p->stride_w - p->pad_left) * p->input.channels;
}

/* The next pixel's patch in TFLite's order (r8_patch_bytes, by vectors; a window inside the image is kernel_h runs
 * of input). */
static void r8_mve_patch_bytes(const r8_mve_gather* g, const int8_t* input, int8_t* to) {
  const r8_conv_params* const p = g->p;
  const int8_t zero = (int8_t)(-p->input_offset);
  const int32_t row = g->row;
  r8_corner c;
  int32_t ky, left, run;
  const int8_t* from;
  if (r8_mve_inside(g, g->oy, g->ox)) {
    from = r8_mve_window(g, input, g->oy, g->ox);
    for (ky = 0; ky < p->kernel_h; ++ky, to += row, from += g->line) r8_mve_copy(to, from, row);
  } else {
    c.y = g->oy * p->stride_h - p->pad_top, c.x = g->ox * p->stride_w - p->pad_left;
    for (ky = 0; ky < p->kernel_h; ++ky, to += row) {
      run = r8_window_row(p, input, c, ky, &left, &from);
      if (left) r8_mve_fill(to, zero, left);
      r8_mve_copy(to + left, from, run);
      if (row - left - run) r8_mve_fill(to + left + run, zero, row - left - run);
    }
  }
  r8_mve_fill(to, 0, g->s->stride - g->size);
}

/* The output pixels whose windows lie inside the image: rows oy_lo..oy_hi, columns ox_lo..ox_hi (empty when
 * lo > hi). */
static void r8_mve_inside_range(int32_t pad, int32_t stride, int32_t kernel, int32_t size, int32_t* lo, int32_t* hi) {
  *lo = (pad + stride - 1) / stride;
  *hi = size - kernel + pad >= 0 ? (size - kernel + pad) / stride : -1;
}

void r8_mve_gather_of(const r8_conv_params* p, const r8_mve_shape* s, r8_mve_gather* g) {
  g->p = p, g->s = s, g->oy = g->ox = 0;
  g->row = p->kernel_w * p->input.channels, g->size = p->kernel_h * g->row,
  g->line = p->input.width * p->input.channels;
  g->apart = p->stride_w * p->input.channels;
  r8_mve_inside_range(p->pad_top, p->stride_h, p->kernel_h, p->input.height, &g->oy_lo, &g->oy_hi);
  r8_mve_inside_range(p->pad_left, p->stride_w, p->kernel_w, p->input.width, &g->ox_lo, &g->ox_hi);
  if (g->ox_hi >= p->output.width) g->ox_hi = p->output.width - 1; /* two pixels together stay on one row */
}

/* Moves `g` on by `n` pixels (1 or 2; two never cross the end of an output row when taken together). */
R8_INLINE void r8_mve_advance(r8_mve_gather* g, int32_t n) {
  g->ox += n;
  if (g->ox >= g->p->output.width) g->ox -= g->p->output.width, ++g->oy;
}

/* int8 rows without a tail: the next two pixels' patches into `a` and `b` when both windows lie inside the image
 * on one row of the output (returns 1), else 0. */
static int r8_mve_two_inside(r8_mve_gather* g, const int8_t* input, int8_t* a, int8_t* b) {
  const int32_t pad = g->s->stride - g->size;
  if (!g->s->raw || !r8_mve_inside(g, g->oy, g->ox) || !r8_mve_inside(g, g->oy, g->ox + 1)) return 0;
  r8_mve_copy_windows(a, (int32_t)(b - a), r8_mve_window(g, input, g->oy, g->ox), g->apart, g->row, g->line,
                      g->p->kernel_h);
  if (pad) r8_mve_fill(a + g->size, 0, pad), r8_mve_fill(b + g->size, 0, pad);
  r8_mve_advance(g, 2);
  return 1;
}

/* The next pixel's patch into `slot` (through `raw` unless the order is TFLite's); returns the sum of its inputs for
 * int4 (the nibbles are w + 8), else 0. */
static int32_t r8_mve_patch(r8_mve_gather* g, const int8_t* input, int8_t* slot, int8_t* raw) {
  const r8_mve_shape* const s = g->s;
  int32_t sum = 0, i;
  r8_mve_patch_bytes(g, input, s->raw ? slot : raw);
  r8_mve_advance(g, 1);
  if (s->raw) return 0;
  r8_mve_order(g->p, s, raw, slot);
  if (!g->p->weights_int4) return 0;
  for (i = 0; i < s->stride; i += 16) { /* zeros past the filter */
    const mve_pred16_t lanes = vctp8q((uint32_t)(s->stride - i));
    sum = vaddvaq_p_s8(sum, vldrbq_z_s8(raw + i, lanes), lanes);
  }
  return sum;
}

void r8_mve_next_patches(r8_mve_gather* g, const int8_t* input, int32_t two, int8_t* a, int8_t* b, int8_t* raw,
                         int32_t* sums) {
  if (two && r8_mve_two_inside(g, input, a, b)) {
    sums[0] = sums[1] = 0;
    return;
  }
  sums[0] = r8_mve_patch(g, input, a, raw);
  sums[1] = two ? r8_mve_patch(g, input, b, raw) : sums[0];
}

#endif
