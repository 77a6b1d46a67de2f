/* The x86 variants of r8_conv (host only, never emitted into the generated C): what their files share.
 *
 * A layer's weights are packed once, when the program is prepared (r8_conv_x86_pack), into one array of int32
 * words: a header, five per-channel tables and the filters in the layout of the level's multiply instruction,
 * the input channels rounded up to a multiple of 4 (`c4`, zero weights) so that a group of 4 never spans two
 * taps. Each call then:
 *   1. copies the input once into a padded image in scratch, converted as the level's instruction reads it
 *      (int16 for AVX2, x + 128 as uint8 for AVX-512 VNNI), its border and extra channels at the input zero
 *      point: every output pixel's window is then kernel_h runs of kernel_w x c4 contiguous values, read in
 *      place (no patches are gathered);
 *   2. runs a tile of output pixels of one output row at a time: every block of 16 output channels' dot
 *      products for the tile (the level's file);
 *   3. requantizes, clamps and, with a fused ADD, adds each output: 16 channels at a time with AVX-512 in the
 *      short form (r8_x86_short_requant), else eight with AVX2 (r8_conv_x86_avx2.c), the last channels of a
 *      count that is not a multiple of 8 by r8_conv_output.h, which is also what every step in 3 computes,
 *      lane by lane.
 * The dot products are exact int32 sums; the requantization is TFLM's, bit for bit (tests/test_x86_kernels.cpp
 * against the reference variant, and the differential test against TFLM itself). */
#ifndef RESNET8_MICRO_X86_H
#define RESNET8_MICRO_X86_H

#include "r8_conv_x86.h"
#include "r8_kernels.h"

/* The packed words: the header, then the tables, each R8_X86_BLOCK x blocks entries, then the filters. */
enum {
  R8_X86_LEVEL,  /* r8_x86_level */
  R8_X86_C4,     /* input channels rounded up to a multiple of 4 */
  R8_X86_KP,     /* weights per output channel as packed: kernel_h x kernel_w x c4 */
  R8_X86_BLOCKS, /* blocks of 16 output channels */
  R8_X86_PIXELS, /* output pixels a tile, at most */
  R8_X86_SHORT,  /* 1: the layer's requantizations may take the short form (r8_x86_short_requant) */
  R8_X86_HEADER = 8
};
#define R8_X86_BLOCK 16

/* The per-channel tables. OFFSET is what the level's dot product adds to weight . input (AVX-512 VNNI:
 * 128 x the filter's sum, for the inputs it reads as x + 128), subtracted before the bias; NET is BIAS - OFFSET.
 * ROUND and SIGN are the short form's rounding (2^(right - 1), and -1, or both 0 when right is 0);
 * MULTIPLIER_ODD holds channel 2i + 1's multiplier at 2i (for the products of the odd lanes). */
enum {
  R8_X86_OFFSET,
  R8_X86_BIAS,
  R8_X86_MULTIPLIER,
  R8_X86_LEFT,
  R8_X86_RIGHT,
  R8_X86_NET,
  R8_X86_ROUND,
  R8_X86_SIGN,
  R8_X86_MULTIPLIER_ODD,
  R8_X86_TABLES
};

/* The short form of r8_rdbpot(y, right): (y + ROUND + (SIGN & (y >> 31))) >> right, the same integer whenever
 * y + ROUND cannot overflow, which holds when |y| < 2^30. r8_srdhm(x, m) is below |x| for m < 2^31, so a layer
 * takes the short form when every channel's (128 x sum |w| + |bias|) << left is below 2^30, and a fused ADD when
 * its left shift is at most 20 (each rescaled input is then below 255 x 2^20, their sum below 2^29). */
int r8_x86_short_requant(const r8_conv_params* p);

/* The requantization tables MULTIPLIER, LEFT, RIGHT, ROUND, SIGN and MULTIPLIER_ODD of `count` channels, table k
 * at t + k x stride (the packing's, and the tests' lanes). */
void r8_x86_requant_tables(const int32_t* multiplier, const int32_t* shift, int32_t count, int32_t stride, int32_t* t);

static inline const int32_t* r8_x86_table(const int32_t* packed, int32_t table) {
  return packed + R8_X86_HEADER + table * R8_X86_BLOCK * packed[R8_X86_BLOCKS];
}
static inline const void* r8_x86_filters(const int32_t* packed) {
  return packed + R8_X86_HEADER + R8_X86_TABLES * R8_X86_BLOCK * packed[R8_X86_BLOCKS];
}

/* The padded image of step 1: its size in pixels, and each value's bytes at a level. */
typedef struct {
  int32_t height, width, bytes;
} r8_x86_padded;

/* Output pixels a tile, per level (the sums of a tile stay in registers). */
#define R8_X86_TILE_AVX2 4
#define R8_X86_TILE_AVX512_VNNI 8

/* A tile's windows in the padded image, in values: where the first pixel's window starts, each pixel's offset
 * from it (pixels past the tile's n repeat its last, so that every read stays in the image), the values of a
 * window row and of an image row. */
typedef struct {
  int32_t origin, run, row, offset[R8_X86_TILE_AVX512_VNNI];
} r8_x86_windows;

static inline r8_x86_windows r8_x86_windows_of(const r8_conv_params* p, int32_t c4, r8_x86_padded pad, int32_t first,
                                               int32_t n, int32_t tile) {
  r8_x86_windows g;
  const int32_t oy = first / p->output.width, ox = first % p->output.width;
  int32_t px;
  g.origin = (oy * p->stride_h * pad.width + ox * p->stride_w) * c4;
  g.run = p->kernel_w * c4, g.row = pad.width * c4;
  for (px = 0; px < tile; ++px) g.offset[px] = (px < n ? px : n - 1) * p->stride_w * c4;
  return g;
}

/* Step 1's conversion, per level: `n` values from `from` into `to`, or (from NULL) `n` copies of `zero`. */
void r8_x86_copy_avx2(const int8_t* from, int32_t n, int8_t zero, void* to);
void r8_x86_copy_avx512_vnni(const int8_t* from, int32_t n, int8_t zero, void* to);

/* Step 2, per level: the dot products of output pixels first .. first + n - 1 (of one output row, n at most
 * the tile) with every block's filters, into acc[pixel * blocks * 16 + channel], the windows read from the
 * padded image `image` of `pad.width` pixels a row. */
void r8_x86_dots_avx2(const r8_conv_params* p, const int32_t* packed, const void* image, r8_x86_padded pad,
                      int32_t first, int32_t n, int32_t* acc);
void r8_x86_dots_avx512_vnni(const r8_conv_params* p, const int32_t* packed, const void* image, r8_x86_padded pad,
                             int32_t first, int32_t n, int32_t* acc);

/* Step 3 from the sums in `acc`: AVX-512, in the short form only (else it does nothing), channels
 * 0 .. 16 x (channels / 16) - 1 of `n` output pixels (their sums blocks x 16 apart, their outputs `channels`
 * apart); AVX2, channels `from` .. `from` + 8 x k - 1 of one pixel, for as many groups of eight as fit. Each
 * returns the channel where it stopped. */
int32_t r8_x86_outputs_avx512(const r8_conv_params* p, const int32_t* packed, const int32_t* acc, int32_t n,
                              int8_t* out);
int32_t r8_x86_outputs_avx2(const r8_conv_params* p, const int32_t* packed, const int32_t* acc, int32_t from,
                            int8_t* out);
/* AVX2 in the short form (r8_x86_short_requant), channels 0 .. 8 x (channels / 8) - 1 of `n` pixels. */
int32_t r8_x86_outputs_avx2_short(const r8_conv_params* p, const int32_t* packed, const int32_t* acc, int32_t n,
                                  int8_t* out);

/* r8_mbqm of 8 lanes as step 3 computes it (for the tests: tests/test_x86_kernels.cpp). */
void r8_x86_mbqm8(const int32_t* x, const int32_t* multiplier, const int32_t* shift, int32_t* out);
/* The same in the short form (for |x << max(shift, 0)| below 2^30 only). */
void r8_x86_mbqm8_short(const int32_t* x, const int32_t* multiplier, const int32_t* shift, int32_t* out);
void r8_x86_mbqm16_short(const int32_t* x, const int32_t* multiplier, const int32_t* shift, int32_t* out);

#endif /* RESNET8_MICRO_X86_H */
