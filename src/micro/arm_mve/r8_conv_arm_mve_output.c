/* CONV_2D, the Arm MVE (Helium) variant's last step (r8_arm_mve.h: r8_mve_requant_rows, r8_mve_add_rows): two
 * pixels' sums requantized, offset and clamped four channels at a time, and the fused ADD four elements at a time.
 * Assembly in low-overhead loops: at -Os GCC reloads the layer's constants in the loops and computes the loop
 * counts anew each pass.
 *
 * TFLM's MultiplyByQuantizedMultiplier for a shift <= 0 (r8_mbqm), lane by lane:
 *   SaturatingRoundingDoublingHighMul(x, m)  VQRDMULH: (2 x m + 2^31) >> 32, saturated; the same integer as
 *                                           gemmlowp's (x m + nudge) / 2^31 for either sign (r8_arm_dsp.h shows why)
 *   RoundingDivideByPOT(y, e), e = -shift   VRSHL by -e rounds half up, (y + 2^(e-1)) >> e in full precision; TFLM
 *                                           rounds half away from zero, floor((y + 2^(e-1) - [y < 0]) / 2^e). So 1
 *                                           comes off a negative y first: VAND with the shift (negative when e > 0)
 *                                           keeps y's sign bit only then, VSHR #31 makes it -1, VQADD adds it
 *                                           (saturating: y = -2^31 gives the same result either way).
 * The ADD's three rescalings are the same with one multiplier and shift each, after TFLM's left shift of the
 * offset inputs (VSHL by a register). tests/micro/variants_check.c checks both against the reference arithmetic:
 * the division's ties of both signs for every e, and every pair of ADD inputs. */
#include "r8_kernels.h"
#include "r8_variants.h"

#if R8_COMPILE_MVE(R8_CONV_ARM_MVE)
#include <stddef.h>

#include "r8_arm_mve.h"

/* The field offsets the assembly reads (r8_add_params: R8_ADD_FIELDS' order; r8_arm_mve.h's jobs). */
#define R8_MVE_AT(type, field, at) (offsetof(type, field) == (at))
typedef char r8_mve_offsets[(R8_MVE_AT(r8_add_params, input1_offset, 4) && R8_MVE_AT(r8_add_params, left_shift, 16) &&
                             R8_MVE_AT(r8_add_params, input1_multiplier, 20) &&
                             R8_MVE_AT(r8_add_params, output_shift, 40) && R8_MVE_AT(r8_add_params, act_max, 48) &&
                             R8_MVE_AT(r8_mve_requant_job, act_max, 32) && R8_MVE_AT(r8_mve_add_job, add, 16))
                                ? 1
                                : -1];

/* Registers: r1 the sums, r3 the multipliers, r4 the shifts, r5, r6 the two pixels' outputs, r7 the output
 * offset, q6, q7 the clamp's bounds; per group q0 multipliers, q1 shifts, q2, q3 the pixels' values (VLD20 / VLD21
 * part the interleaved pixels), q4, q5 the rounding fix-ups, then the results. Each group but the last loads the
 * next group's multipliers, shifts and sums between its arithmetic (so that a core with beat-wise overlap can run
 * a load beside an operation); the last reads nothing past the arrays. */
/* clang-format off */
#define R8_MVE_GROUP(next_m, next_s, next_sums0, next_sums1)                      \
  "vqrdmulh.s32 q2, q2, q0\n\tvqrdmulh.s32 q3, q3, q0\n\t" next_m                 \
  "vand q4, q2, q1\n\tvand q5, q3, q1\n\tvshr.s32 q4, q4, #31\n\tvshr.s32 q5, q5, #31\n\t" \
  "vqadd.s32 q2, q2, q4\n\tvqadd.s32 q3, q3, q5\n\t"                              \
  "vrshl.s32 q2, q2, q1\n\tvrshl.s32 q3, q3, q1\n\t" next_s                      \
  "vadd.i32 q2, q2, r7\n\tvadd.i32 q3, q3, r7\n\t"                                \
  "vmax.s32 q4, q2, q6\n\tvmax.s32 q5, q3, q6\n\t" next_sums0                    \
  "vmin.s32 q4, q4, q7\n\t" next_sums1                                            \
  "vmin.s32 q5, q5, q7\n\t"                                                       \
  "vstrb.32 q4, [r5], #4\n\tvstrb.32 q5, [r6], #4\n\t"
/* clang-format on */

__attribute__((naked)) void r8_mve_requant_rows(const r8_mve_requant_job* job __attribute__((unused))) {
  __asm__ volatile(
      "push {r4-r8, lr}\n\t"
      "vpush {d8-d15}\n\t"
      "ldr r1, [r0]\n\tldr r3, [r0, #4]\n\tldr r4, [r0, #8]\n\tldr r5, [r0, #12]\n\t"
      "ldr r6, [r0, #16]\n\tldr r12, [r0, #20]\n\tldr r7, [r0, #24]\n\t"
      "add r6, r5, r6\n\t"
      "ldr r8, [r0, #28]\n\tvdup.32 q6, r8\n\t"
      "ldr r8, [r0, #32]\n\tvdup.32 q7, r8\n\t"
      "vldrw.u32 q0, [r3], #16\n\tvldrw.u32 q1, [r4], #16\n\t"
      "vld20.32 {q2, q3}, [r1]\n\tvld21.32 {q2, q3}, [r1]!\n\t"
      "subs r12, r12, #1\n\t"
      "wls lr, r12, 2f\n"
      "1:\n\t"
      R8_MVE_GROUP("vldrw.u32 q0, [r3], #16\n\t", "vldrw.u32 q1, [r4], #16\n\t", "vld20.32 {q2, q3}, [r1]\n\t",
                   "vld21.32 {q2, q3}, [r1]!\n\t")
      "le lr, 1b\n"
      "2:\n\t"
      R8_MVE_GROUP("", "", "", "")
      "vpop {d8-d15}\n\t"
      "pop {r4-r8, pc}\n\t");
}

/* Registers: r1, r2 the ADD's two inputs, r3 the outputs, r5, r6 the input offsets, r7 the left shift, r8, r9,
 * r10 the three multipliers, r11 the output offset; q4, q5, q6 the three shifts, q7 and q3 the clamp's bounds;
 * q0, q1 the two inputs' values, q2 a rounding fix-up. */
__attribute__((naked)) void r8_mve_add_rows(const r8_mve_add_job* job __attribute__((unused))) {
  __asm__ volatile(
      "push {r4-r11, lr}\n\t"
      "vpush {d8-d15}\n\t"
      "ldr r1, [r0]\n\tldr r2, [r0, #4]\n\tldr r3, [r0, #8]\n\tldr r12, [r0, #12]\n\tldr r4, [r0, #16]\n\t"
      "ldr r5, [r4, #4]\n\tldr r6, [r4, #8]\n\tldr r11, [r4, #12]\n\tldr r7, [r4, #16]\n\t"
      "ldr r8, [r4, #20]\n\tldr r0, [r4, #24]\n\tvdup.32 q4, r0\n\t"
      "ldr r9, [r4, #28]\n\tldr r0, [r4, #32]\n\tvdup.32 q5, r0\n\t"
      "ldr r10, [r4, #36]\n\tldr r0, [r4, #40]\n\tvdup.32 q6, r0\n\t"
      "ldr r0, [r4, #44]\n\tvdup.32 q7, r0\n\t"
      "ldr r0, [r4, #48]\n\tvdup.32 q3, r0\n\t"
      "dls lr, r12\n"
      "1:\n\t"
      "vldrb.s32 q0, [r1], #4\n\tvadd.i32 q0, q0, r5\n\t"
      "vldrb.s32 q1, [r2], #4\n\tvadd.i32 q1, q1, r6\n\t"
      "vshl.s32 q0, r7\n\tvshl.s32 q1, r7\n\t"
      "vqrdmulh.s32 q0, q0, r8\n\tvqrdmulh.s32 q1, q1, r9\n\t"
      "vand q2, q0, q4\n\tvshr.s32 q2, q2, #31\n\tvqadd.s32 q0, q0, q2\n\tvrshl.s32 q0, q0, q4\n\t"
      "vand q2, q1, q5\n\tvshr.s32 q2, q2, #31\n\tvqadd.s32 q1, q1, q2\n\tvrshl.s32 q1, q1, q5\n\t"
      "vadd.i32 q0, q0, q1\n\t"
      "vqrdmulh.s32 q0, q0, r10\n\t"
      "vand q2, q0, q6\n\tvshr.s32 q2, q2, #31\n\tvqadd.s32 q0, q0, q2\n\tvrshl.s32 q0, q0, q6\n\t"
      "vadd.i32 q0, q0, r11\n\t"
      "vmax.s32 q0, q0, q7\n\tvmin.s32 q0, q0, q3\n\t"
      "vstrb.32 q0, [r3], #4\n\t"
      "le lr, 1b\n\t"
      "vpop {d8-d15}\n\t"
      "pop {r4-r11, pc}\n\t");
}

#endif
