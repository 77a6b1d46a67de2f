/* resnet8 integer kernels: where a CONV_2D output pixel's window lies in the input, and its patch as int8
 * bytes, for the variants that gather patches by rows of the window (arm_dsp, arm_mve). One definition, so that
 * every variant clips the window as TFLM does. */
#ifndef RESNET8_MICRO_CONV_WINDOW_H
#define RESNET8_MICRO_CONV_WINDOW_H

#include "r8_kernels.h"

/* Where output pixel `pixel`'s window starts in the input: its top row and left column (both may be negative). */
typedef struct {
  int32_t y, x;
} r8_corner;

static inline r8_corner r8_corner_of(const r8_conv_params* p, int32_t pixel) {
  r8_corner c;
  c.y = pixel / p->output.width * p->stride_h - p->pad_top;
  c.x = pixel % p->output.width * p->stride_w - p->pad_left;
  return c;
}

/* Row ky of the window at `c`: returns how many of its inputs lie inside the image (from `*from`), after `*left`
 * inputs before it; the rest of the row after it. */
static inline int32_t r8_window_row(const r8_conv_params* p, const int8_t* input, r8_corner c, int32_t ky,
                                    int32_t* left, const int8_t** from) {
  const int32_t ch = p->input.channels, kw = p->kernel_w, y = c.y + ky;
  const int32_t x_lo = c.x < 0 ? -c.x : 0, x_hi = c.x + kw > p->input.width ? p->input.width - c.x : kw;
  if (y < 0 || y >= p->input.height || x_lo >= x_hi) {
    *left = kw * ch, *from = input;
    return 0;
  }
  *left = x_lo * ch, *from = input + (y * p->input.width + c.x + x_lo) * ch;
  return (x_hi - x_lo) * ch;
}

/* n bytes of v at `to`. A loop, not memset: the patches' runs are a few bytes, often none, where a call into the C
 * library costs more than the stores (and its cost differs between the libraries of two cores). The empty asm
 * keeps GCC and Clang from turning the loop back into a memset call; it emits nothing. */
static inline void r8_fill_bytes(int8_t* to, int8_t v, int32_t n) {
  for (; n > 0; --n) {
    *to++ = v;
#if defined(__GNUC__)
    __asm__("" : "+r"(to));
#endif
  }
}

/* Output pixel `pixel`'s patch in int8: the filter's inputs in TFLite's order, taps outside the image at the
 * input zero point, then zeros up to the filter stride (r8_filter_stride). */
static inline void r8_patch_bytes(const r8_conv_params* p, const int8_t* input, int32_t pixel, int8_t* to) {
  const int8_t zero = (int8_t)(-p->input_offset);
  const int32_t row = p->kernel_w * p->input.channels, size = p->kernel_h * row;
  const r8_corner c = r8_corner_of(p, pixel);
  int32_t ky, left, run;
  const int8_t* from;
  for (ky = 0; ky < p->kernel_h; ++ky, to += row) {
    run = r8_window_row(p, input, c, ky, &left, &from);
    r8_fill_bytes(to, zero, left);
    __builtin_memcpy(to + left, from, (uint32_t)run);
    r8_fill_bytes(to + left + run, zero, row - left - run);
  }
  r8_fill_bytes(to, 0, r8_filter_stride(size) - size);
}

#endif /* RESNET8_MICRO_CONV_WINDOW_H */
