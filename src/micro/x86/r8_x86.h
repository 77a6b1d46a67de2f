/* The x86 variants of r8_conv (host only, never emitted into the generated C): what their files share.
 *
 * A layer's weights are packed once, when the program is prepared (r8_conv_x86_pack), into one array of int32
 * words: a header, five per-channel tables and the filters in the layout of the level's multiply instruction.
 * Each call then runs a tile of output pixels at a time:
 *   1. the tile's patches, gathered as int8 in TFLite's order (taps outside the image at the input zero point,
 *      zeros past the filter up to `kp`) and converted as the level's instruction wants them;
 *   2. every block of 16 output channels' dot products for the tile's pixels (the level's file);
 *   3. each output requantized, clamped and, with a fused ADD, added, eight channels at a time with AVX2
 *      (r8_conv_x86_avx2.c) and the last channels of a count that is not a multiple of 8 by r8_conv_output.h,
 *      which is also what every step in 3 computes, lane by lane.
 * The dot products are exact int32 sums; the requantization is TFLM's, bit for bit (tests/test_x86_kernels.cpp
 * against the reference variant, and the differential test against TFLM itself). */
#ifndef RESNET8_MICRO_X86_H
#define RESNET8_MICRO_X86_H

#include "r8_conv_x86.h"
#include "r8_kernels.h"

/* The packed words: the header, then the tables, each R8_X86_BLOCK x blocks entries, then the filters. */
enum {
  R8_X86_LEVEL,  /* r8_x86_level */
  R8_X86_KP,     /* the patch length: kernel_h x kernel_w x input channels, rounded up to 8 */
  R8_X86_BLOCKS, /* blocks of 16 output channels */
  R8_X86_PIXELS, /* output pixels a tile */
  R8_X86_HEADER = 8
};
#define R8_X86_BLOCK 16

/* The per-channel tables. OFFSET is what the level's dot product adds to weight . input (AVX-512 VNNI:
 * 128 x the filter's sum, for the inputs it reads as x + 128), subtracted before the bias. */
enum { R8_X86_OFFSET, R8_X86_BIAS, R8_X86_MULTIPLIER, R8_X86_LEFT, R8_X86_RIGHT, R8_X86_TABLES };

static inline const int32_t* r8_x86_table(const int32_t* packed, int32_t table) {
  return packed + R8_X86_HEADER + table * R8_X86_BLOCK * packed[R8_X86_BLOCKS];
}
static inline const void* r8_x86_filters(const int32_t* packed) {
  return packed + R8_X86_HEADER + R8_X86_TABLES * R8_X86_BLOCK * packed[R8_X86_BLOCKS];
}

/* Step 2, per level: the dot products of `pixels` patches (int8, `kp` bytes each, at `patches`) with every
 * block's filters, into acc[pixel * blocks * 16 + channel]; `work` holds the converted patches
 * (r8_conv_x86_scratch_bytes). */
void r8_x86_dots_avx2(const int32_t* packed, const int8_t* patches, int8_t* work, int32_t* acc);
void r8_x86_dots_avx512_vnni(const int32_t* packed, const int8_t* patches, int8_t* work, int32_t* acc);

/* Step 3 for one output pixel: channels 0 .. 8 x (channels / 8) - 1 of `out` from their sums in `acc`. */
void r8_x86_outputs_avx2(const r8_conv_params* p, const int32_t* packed, const int32_t* acc, int8_t* out);

/* r8_mbqm of eight lanes as step 3 computes it (AVX2; for the tests: tests/test_x86_kernels.cpp). */
void r8_x86_mbqm8(const int32_t* x, const int32_t* multiplier, const int32_t* shift, int32_t* out);

#endif /* RESNET8_MICRO_X86_H */
