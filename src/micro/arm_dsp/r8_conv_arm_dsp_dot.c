/* CONV_2D, the Arm DSP variant's inner loops (r8_arm_dsp.h: r8_dsp_dot_int8, r8_dsp_dot_int4): two output pixels
 * by two output channels, 16-bit pairs multiplied and added two at a time by SMLAD.
 *
 * Per 8 inputs and a pair of rows, both loops load 12 or 14 words in runs (a run of n single loads costs n + 1
 * cycles on a Cortex-M4) and issue 16 SMLADs:
 *   int8  4 weight words, each split by SXTB16 into its even and odd weights:   8 SXTB16 + 16 SMLAD + 14 loads
 *   int4  2 weight words, each giving four pairs of nibbles by one AND (one LSR more for the top nibbles):
 *                                                                                10 ALU + 16 SMLAD + 12 loads
 * 38 cycles per 32 multiply-accumulates either way, against 64 for one MAC a cycle. int4 pairs come out
 * unsigned (n = w + 8) and scaled by 1, 16, 256 and 256 (the nibble's place, the top one shifted down): the
 * patch's inputs are scaled by 256, 16, 1 and 1 to match (r8_conv_arm_dsp.c), so every product is 256 n x.
 *
 * Registers (all fourteen): r0 weights, r1 patches, r2 their end, r3/r4 pixel a's sums for rows 0/1, r5/r6
 * pixel b's, r7/r8 a unit of rows 0/1, r9 a pair of weights, r10-r12 and lr four patch words. The stack holds
 * the patches' start, the pairs left, the two output pointers and whether stride / 8 is odd. Written in assembly
 * because at -Os GCC keeps so many live values only by spilling. */
#include "r8_kernels.h"
#include "r8_variants.h"

#if R8_COMPILE(R8_CONV_ARM_DSP)
#include "r8_arm_dsp.h"

/* Pairs of weights: int8 from a word of four (SXTB16), int4 from a word of eight (a mask per nibble place). */
static uint32_t r8_int4_pair(uint32_t unit, int32_t place) {
  static const uint32_t masks[4] = {0x000F000Fu, 0x00F000F0u, 0x0F000F00u, 0xF000F000u};
  const uint32_t pair = unit & masks[place];
  return place == 3 ? pair >> 4 : pair;
}

void r8_dsp_dot_rows(const int8_t* weights, int32_t step, int32_t rows, int32_t int4, const uint32_t* patches,
                     int32_t stride, int32_t* sums_a, int32_t* sums_b) {
  int32_t r, g, place;
  for (r = 0; r < rows; ++r) {
    const int8_t* w = weights + 4 * r;
    int32_t a = 0, b = 0;
    for (g = 0; g < stride / 4; g += int4 ? 2 : 1, w += step) {
      const uint32_t unit = r8_load32(w);
      const uint32_t* x = patches + 4 * g;
      if (!int4) {
        a = r8_smlad(r8_sxtb16(unit), x[0], r8_smlad(r8_sxtb16_ror8(unit), x[1], a));
        b = r8_smlad(r8_sxtb16(unit), x[2], r8_smlad(r8_sxtb16_ror8(unit), x[3], b));
        continue;
      }
      for (place = 0; place < 4; ++place) { /* places 0, 1 with the first group's words, 2, 3 the second's */
        const uint32_t pair = r8_int4_pair(unit, place);
        const uint32_t* xs = x + (place >> 1) * 4 + (place & 1);
        a = r8_smlad(pair, xs[0], a);
        b = r8_smlad(pair, xs[2], b);
      }
    }
    sums_a[r] = a;
    sums_b[r] = b;
  }
}

#if defined(__ARM_FEATURE_DSP) && defined(__thumb2__)

/* The assembly is laid out a group of instructions a line, by hand. */
/* clang-format off */
/* Four inputs of both pixels with one int8 unit of each row. */
#define R8_INT8_BLOCK                                                                                       \
  "ldr r7, [r0], #4\n\tldr r8, [r0], #4\n\t"                                                                \
  "ldr r10, [r1], #4\n\tldr r11, [r1], #4\n\tldr r12, [r1], #4\n\tldr lr, [r1], #4\n\t"                     \
  "sxtb16 r9, r7\n\tsxtb16 r7, r7, ror #8\n\t"                                                              \
  "smlad r3, r9, r10, r3\n\tsmlad r3, r7, r11, r3\n\tsmlad r5, r9, r12, r5\n\tsmlad r5, r7, lr, r5\n\t"     \
  "sxtb16 r9, r8\n\tsxtb16 r8, r8, ror #8\n\t"                                                              \
  "smlad r4, r9, r10, r4\n\tsmlad r4, r8, r11, r4\n\tsmlad r6, r9, r12, r6\n\tsmlad r6, r8, lr, r6\n\t"

/* Eight inputs of both pixels with one int4 unit of each row: nibble places 0 and 1 with the first four
 * inputs' words, 2 and 3 with the next four's. */
#define R8_INT4_PLACE(row, mask, shift, sa, sb, xa, xb) \
  "and r9, " row ", #" mask "\n\t" shift "smlad " sa ", r9, " xa ", " sa "\n\tsmlad " sb ", r9, " xb ", " sb "\n\t"
#define R8_INT4_BLOCK                                                                                   \
  "ldr r7, [r0], #4\n\tldr r8, [r0], #4\n\t"                                                            \
  "ldr r10, [r1], #4\n\tldr r11, [r1], #4\n\tldr r12, [r1], #4\n\tldr lr, [r1], #4\n\t"                 \
  R8_INT4_PLACE("r7", "0x000F000F", "", "r3", "r5", "r10", "r12")                                        \
  R8_INT4_PLACE("r7", "0x00F000F0", "", "r3", "r5", "r11", "lr")                                         \
  R8_INT4_PLACE("r8", "0x000F000F", "", "r4", "r6", "r10", "r12")                                        \
  R8_INT4_PLACE("r8", "0x00F000F0", "", "r4", "r6", "r11", "lr")                                         \
  "ldr r10, [r1], #4\n\tldr r11, [r1], #4\n\tldr r12, [r1], #4\n\tldr lr, [r1], #4\n\t"                 \
  R8_INT4_PLACE("r7", "0x0F000F00", "", "r3", "r5", "r10", "r12")                                        \
  R8_INT4_PLACE("r7", "0xF000F000", "lsr r9, r9, #4\n\t", "r3", "r5", "r11", "lr")                        \
  R8_INT4_PLACE("r8", "0x0F000F00", "", "r4", "r6", "r10", "r12")                                        \
  R8_INT4_PLACE("r8", "0xF000F000", "lsr r9, r9, #4\n\t", "r4", "r6", "r11", "lr")

/* The loop around 16 inputs a pass (FIRST and SECOND each 8), entered at SECOND when stride / 8 is odd; after
 * each pair of rows its four sums are stored and the patches start again. */
#define R8_DOT_LOOP(FIRST, SECOND)                                                                     \
  "push {r4-r11, lr}\n\t"                                                                              \
  "ldrd r4, r6, [sp, #36]\n\t" /* sums_a, sums_b: the fifth and sixth arguments */                     \
  "and r5, r2, #8\n\t"         /* stride / 8 odd */                                                    \
  "add r2, r1, r2, lsl #2\n\t" /* the patches' end: 2 pixels x stride x 2 bytes */                     \
  "push {r1, r3, r4, r5, r6}\n"                                                                        \
  "1:\n\t"                                                                                             \
  "ldr r1, [sp]\n\t"                                                                                   \
  "ldr r7, [sp, #12]\n\t"                                                                              \
  "movs r3, #0\n\tmovs r4, #0\n\tmovs r5, #0\n\tmovs r6, #0\n\t"                                       \
  "cmp r7, #0\n\t"                                                                                     \
  "bne 3f\n"                                                                                           \
  "2:\n\t" FIRST "3:\n\t" SECOND                                                                       \
  "cmp r1, r2\n\t"                                                                                     \
  "blo 2b\n\t"                                                                                         \
  "ldr r7, [sp, #8]\n\t"                                                                               \
  "strd r3, r4, [r7], #8\n\t"                                                                          \
  "str r7, [sp, #8]\n\t"                                                                               \
  "ldr r7, [sp, #16]\n\t"                                                                              \
  "strd r5, r6, [r7], #8\n\t"                                                                          \
  "str r7, [sp, #16]\n\t"                                                                              \
  "ldr r7, [sp, #4]\n\t"                                                                               \
  "subs r7, r7, #1\n\t"                                                                                \
  "str r7, [sp, #4]\n\t"                                                                               \
  "bne 1b\n\t"                                                                                         \
  "add sp, sp, #20\n\t"                                                                                \
  "pop {r4-r11, pc}\n\t"

/* clang-format on */

/* The arguments arrive in r0-r3 and on the stack (AAPCS); the C names are for the reader. */
#define R8_ASM_ARGS                                                                               \
  const int8_t *weights __attribute__((unused)), const uint32_t *patches __attribute__((unused)), \
      int32_t stride __attribute__((unused)), int32_t pairs __attribute__((unused)),              \
      int32_t *sums_a __attribute__((unused)), int32_t *sums_b __attribute__((unused))

__attribute__((naked, noinline)) void r8_dsp_dot_int8(R8_ASM_ARGS) {
  __asm__ volatile(R8_DOT_LOOP(R8_INT8_BLOCK R8_INT8_BLOCK, R8_INT8_BLOCK R8_INT8_BLOCK));
}

__attribute__((naked, noinline)) void r8_dsp_dot_int4(R8_ASM_ARGS) {
  __asm__ volatile(R8_DOT_LOOP(R8_INT4_BLOCK, R8_INT4_BLOCK));
}

#else /* the host: the same sums in C */

void r8_dsp_dot_int8(const int8_t* weights, const uint32_t* patches, int32_t stride, int32_t pairs, int32_t* sums_a,
                     int32_t* sums_b) {
  int32_t k;
  for (k = 0; k < pairs; ++k) {
    r8_dsp_dot_rows(weights + 2 * k * stride, 8, 2, 0, patches, stride, sums_a + 2 * k, sums_b + 2 * k);
  }
}

void r8_dsp_dot_int4(const int8_t* weights, const uint32_t* patches, int32_t stride, int32_t pairs, int32_t* sums_a,
                     int32_t* sums_b) {
  int32_t k;
  for (k = 0; k < pairs; ++k) {
    r8_dsp_dot_rows(weights + k * stride, 8, 2, 1, patches, stride, sums_a + 2 * k, sums_b + 2 * k);
  }
}

#endif
#endif
