/* resnet8 integer kernels, the Arm MVE (Helium) variant's parts (src/micro/arm_mve/): the layout of its patches
 * (r8_conv_arm_mve_patch.c), its dot products (r8_conv_arm_mve_dot.c) and its last step (r8_conv_arm_mve_output.c),
 * each a plain struct of what it needs. The functions exist only on a core with MVE (__ARM_FEATURE_MVE). */
#ifndef RESNET8_MICRO_ARM_MVE_H
#define RESNET8_MICRO_ARM_MVE_H

#include <stdint.h>

#include "r8_fixedpoint.h"
#include "r8_kernels.h"

/* One pixel's patch as the dot products read it, for a row of `units` 4-byte units of weights (4 int8 or 8 int4
 * weights each): `chunks` groups of 4 units (16 bytes of patch for int8; for int4, 16 bytes matching the
 * weights' low nibbles, then 16 matching the high), then the `tail` units left (0..3), two a step, each step's
 * patch as its weights lie: unit u's inputs twice, unit u + 1's twice (16 bytes; 32 for int4, low then high).
 * `raw`: 1 when that is TFLite's order, as the window gives it (int8 rows of whole chunks). */
typedef struct {
  int32_t stride, units, chunks, tail, step_bytes, slot, raw;
} r8_mve_shape;

/* The dot products of two output pixels, a and b, with every pair of filter rows (r8_conv_arm_mve_dot.c), each
 * from its row's bias, the pixels interleaved: sums[2 oc] = bias[oc] + a . row oc, sums[2 oc + 1] = bias[oc] + b .
 * row oc. int4 rows (nibbles w + 8): from the bias less 8 x the patch's sum, `sum_a` / `sum_b`. The field offsets
 * are the assembly's. */
typedef struct {
  const int8_t* weights; /*  0: the pairs' streams, one after another (r8_kernels.h), 4-byte aligned */
  const int32_t* bias;   /*  4 */
  int32_t* sums;         /*  8 */
  int32_t pairs;         /* 12: >= 1 */
  int32_t passes;        /* 16: (chunks - 1) / 2 */
  int32_t odd;           /* 20: chunks & 1 */
  const int8_t* a;       /* 24: pixel a's patch (r8_mve_shape) */
  const int8_t* b;       /* 28: pixel b's */
  int32_t sum_a, sum_b;  /* int4 */
} r8_mve_job;

/* Where the next output pixels' patches come from (r8_conv_arm_mve_patch.c). */
typedef struct {
  const r8_conv_params* p;
  const r8_mve_shape* s;
  int32_t oy, ox;                     /* the next pixel */
  int32_t oy_lo, oy_hi, ox_lo, ox_hi; /* the pixels whose windows lie inside the image */
  int32_t row, size, line, apart;     /* bytes: a window's row, a window, an input row, two windows' starts */
} r8_mve_gather;
void r8_mve_gather_of(const r8_conv_params* p, const r8_mve_shape* s, r8_mve_gather* g);
/* The next pixel's patch into `a`, and the one after into `b` if `two`; the int4 patches' sums into sums[0..1].
 * `raw`: scratch for a patch in TFLite's order. */
void r8_mve_next_patches(r8_mve_gather* g, const int8_t* input, int32_t two, int8_t* a, int8_t* b, int8_t* raw,
                         int32_t* sums);

/* int8 rows of whole chunks (r8_mve_shape's `raw`): assembly. */
void r8_mve_dots_int8(const r8_mve_job* job);
/* Any rows: int8 with a tail, int4 (`int4`), by intrinsics. */
void r8_mve_dots_any(const r8_mve_job* job, const r8_mve_shape* s, int32_t int4);

/* Two pixels' outputs from their sums (bias included, the pixels interleaved: r8_mve_job) by groups of 4
 * channels: requantized with shifts <= 0, offset, clamped (r8_conv_arm_mve_output.c). The offsets
 * are the assembly's. */
typedef struct {
  const int32_t* sums;       /*  0 */
  const int32_t* multiplier; /*  4 */
  const int32_t* shift;      /*  8: every one <= 0 */
  int8_t* out;               /* 12: pixel a's; pixel b's at out + step */
  int32_t step;              /* 16 */
  int32_t groups;            /* 20: >= 1 */
  int32_t offset, act_min, act_max;
} r8_mve_requant_job;
void r8_mve_requant_rows(const r8_mve_requant_job* job);

/* A fused ADD over `groups` x 4 elements (r8_conv_arm_mve_output.c), for an ADD r8_mve_add_takes. */
typedef struct {
  const int8_t* input1; /*  0 */
  const int8_t* input2; /*  4 */
  int8_t* out;          /*  8: may be one of the inputs */
  int32_t groups;       /* 12: >= 1 */
  const r8_add_params* add;
} r8_mve_add_job;
void r8_mve_add_rows(const r8_mve_add_job* job);

/* Whether r8_mve_add_rows computes the ADD: its three shifts in -31..0 (TFLM's ADD multipliers are below 1) and the
 * left shift in 0..31. */
R8_INLINE int r8_mve_add_takes(const r8_add_params* a) {
  return a->left_shift >= 0 && a->left_shift <= 31 && a->input1_shift <= 0 && a->input1_shift >= -31 &&
         a->input2_shift <= 0 && a->input2_shift >= -31 && a->output_shift <= 0 && a->output_shift >= -31;
}

#endif /* RESNET8_MICRO_ARM_MVE_H */
