/* CONV_2D, the Arm MVE (Helium) variant's dot products (r8_arm_mve.h: r8_mve_dots_int8, r8_mve_dots_any): two
 * output pixels by a pair of output channels, sixteen int8 multiply-accumulates an instruction (VMLADAVA).
 *
 * A pair's weight stream (r8_kernels.h: rows interleaved by 4-byte units) is split into its two rows by VLD20 /
 * VLD21, a de-interleaving load of 32-bit elements: 16 weights of each row (int8; 32 nibbles for int4) a chunk.
 * The units left at the end of a row (fewer than 4: the tail) are read as they lie, A B A B, and multiplied with a
 * patch laid out the same way (r8_mve_shape), under predicates that keep row A's lanes or row B's.
 *
 * r8_mve_dots_int8, the path of every int8 layer whose filter stride is a multiple of 16, is assembly: per chunk
 * 2 loads of weights, 2 of patches and 4 VMLADAVA, each multiply beside a load so that a core with beat-wise
 * overlap can run them together, the next chunk's loads beside this chunk's multiplies, in a low-overhead loop
 * (WLS / LE) two chunks a pass; at -Os GCC neither interleaves the loads nor uses the low-overhead loops. */
#include "r8_kernels.h"
#include "r8_variants.h"

#if R8_COMPILE_MVE(R8_CONV_ARM_MVE)
#include <arm_mve.h>
#include <stddef.h>

#include "r8_arm_mve.h"

/* The field offsets the assembly reads. */
typedef char r8_mve_job_offsets[offsetof(r8_mve_job, odd) == 20 && offsetof(r8_mve_job, b) == 28 ? 1 : -1];

/* The predicates of a tail step's lanes of row A (bytes 0..3 and 8..11) and of row B. GCC 12 emits the constant
 * 0xF0F0 as a negative immediate the assembler refuses, so it is made at run time. */
R8_INLINE mve_pred16_t r8_mve_row_a(void) { return (mve_pred16_t)0x0F0F; }
R8_INLINE mve_pred16_t r8_mve_row_b(void) {
  uint32_t v = 0x0F0Fu;
  __asm__("" : "+r"(v)); /* opaque to the optimizer */
  return (mve_pred16_t)(v << 4);
}

/* The assembly is laid out by hand. Registers: r0, r4 pixel a's sums with rows 0 and 1 of the pair, r2, r6 pixel
 * b's (VMLADAVA needs even registers; STM stores them in this order: the pixels interleaved); r1 the weights, r3
 * and r5 the two patches, r7 and r8 their starts, r9 the bias, r10 the sums, r11 the pairs left, r12 the passes
 * of the inner loop (two chunks a pass), lr its count. W = {q0, q1} and V = {q4, q5}: the two chunks of weights in
 * flight, row 0 in the first register; q2 and q3 the two pixels' 16 inputs.
 *
 * A step multiplies the current chunk while it loads the next; a pair's last step loads the next pair's first
 * chunk (but for the last pair, which reads nothing past its stream). With an odd number of chunks a pair starts in
 * W and ends in W, so the next starts in V: the pairs alternate between two copies of the code. */
/* clang-format off */
#define R8_MVE_MACS_LOADS(cur0, cur1, next, x, y)                                  \
  "vmladava.s8 r0, " cur0 ", q2\n\tvld20.32 " next ", [r1]\n\t"                  \
  "vmladava.s8 r4, " cur1 ", q2\n\tvld21.32 " next ", [r1]!\n\t"                 \
  "vmladava.s8 r2, " cur0 ", q3\n\tvldrb.u8 q2, " x "\n\t"                       \
  "vmladava.s8 r6, " cur1 ", q3\n\tvldrb.u8 q3, " y "\n\t"
#define R8_MVE_STEP(cur0, cur1, next) R8_MVE_MACS_LOADS(cur0, cur1, next, "[r3], #16", "[r5], #16")
#define R8_MVE_LAST(cur0, cur1)                                                    \
  "vmladava.s8 r0, " cur0 ", q2\n\tvmladava.s8 r4, " cur1 ", q2\n\t"             \
  "vmladava.s8 r2, " cur0 ", q3\n\tvmladava.s8 r6, " cur1 ", q3\n\t"
/* The pair's last step with the next pair's first loads, its sums stored, the next pair's started. */
#define R8_MVE_NEXT(cur0, cur1, next)                                              \
  R8_MVE_MACS_LOADS(cur0, cur1, next, "[r7]", "[r8]")                              \
  "stm r10!, {r0, r2, r4, r6}\n\t"                                                 \
  "ldrd r0, r4, [r9], #8\n\tmov r2, r0\n\tmov r6, r4\n\tadd r3, r7, #16\n\tadd r5, r8, #16\n\t"
/* The passes of a pair, two chunks each, from W (or from V), up to its last one or two chunks. */
#define R8_MVE_PASSES(a0, a1, b0, b1, done)                                        \
  "wls lr, r12, " done "f\n"                                                       \
  "1:\n\t" R8_MVE_STEP(a0, a1, "{" b0 ", " b1 "}") R8_MVE_STEP(b0, b1, "{" a0 ", " a1 "}") \
  "le lr, 1b\n"                                                                    \
  done ":\n\t"
/* clang-format on */

/* Naked: the body saves what it uses (AAPCS: r4-r11, lr, d8-d11) and reads its argument from r0. */
__attribute__((naked)) void r8_mve_dots_int8(const r8_mve_job* job __attribute__((unused))) {
  __asm__ volatile(
      "push {r4-r11, lr}\n\t"
      "vpush {d8-d11}\n\t"
      "ldr r1, [r0]\n\tldr r9, [r0, #4]\n\tldr r10, [r0, #8]\n\tldr r11, [r0, #12]\n\t"
      "ldr r12, [r0, #16]\n\tldr r7, [r0, #24]\n\tldr r8, [r0, #28]\n\t"
      "ldr r0, [r0, #20]\n\t"
      "cmp r0, #0\n\t"
      /* the first pair: its sums from the bias, its first chunk loaded into W */
      "ldrd r0, r4, [r9], #8\n\tmov r2, r0\n\tmov r6, r4\n\tmov r3, r7\n\tmov r5, r8\n\t"
      "vld20.32 {q0, q1}, [r1]\n\tvld21.32 {q0, q1}, [r1]!\n\t"
      "vldrb.u8 q2, [r3], #16\n\tvldrb.u8 q3, [r5], #16\n\t"
      "beq 6f\n"
      /* an odd number of chunks: pairs from W, then from V */
      "2:\n\t" R8_MVE_PASSES("q0", "q1", "q4", "q5", "3")
      "subs r11, r11, #1\n\t"
      "beq 7f\n\t" R8_MVE_NEXT("q0", "q1", "{q4, q5}")
      R8_MVE_PASSES("q4", "q5", "q0", "q1", "4")
      "subs r11, r11, #1\n\t"
      "beq 8f\n\t" R8_MVE_NEXT("q4", "q5", "{q0, q1}")
      "b 2b\n"
      "7:\n\t" R8_MVE_LAST("q0", "q1")
      "b 9f\n"
      "8:\n\t" R8_MVE_LAST("q4", "q5")
      "b 9f\n"
      /* an even number: every pair from W, its last two chunks in W and V */
      "6:\n\t" R8_MVE_PASSES("q0", "q1", "q4", "q5", "5")
      R8_MVE_STEP("q0", "q1", "{q4, q5}")
      "subs r11, r11, #1\n\t"
      "beq 8b\n\t" R8_MVE_NEXT("q4", "q5", "{q0, q1}")
      "b 6b\n"
      "9:\n\t"
      "stm r10!, {r0, r2, r4, r6}\n\t"
      "vpop {d8-d11}\n\t"
      "pop {r4-r11, pc}\n\t");
}

/* int8 chunks of one pair with pixels a and b (`*w`, `*x`, `*y` advanced past them). */
R8_INLINE void r8_mve_chunks(const int8_t** w, const int8_t** x, const int8_t** y, int32_t chunks, int32_t* s) {
  int32_t i;
  for (i = 0; i < chunks; ++i, *w += 32, *x += 16, *y += 16) {
    const int32x4x2_t rows = vld2q_s32((const int32_t*)(const void*)*w);
    const int8x16_t r0 = vreinterpretq_s8_s32(rows.val[0]), r1 = vreinterpretq_s8_s32(rows.val[1]);
    const int8x16_t xa = vldrbq_s8(*x), xb = vldrbq_s8(*y);
    s[0] = vmladavaq_s8(s[0], r0, xa), s[1] = vmladavaq_s8(s[1], r1, xa);
    s[2] = vmladavaq_s8(s[2], r0, xb), s[3] = vmladavaq_s8(s[3], r1, xb);
  }
}

/* int4 chunks likewise: each row's low nibbles (VAND) with the patch's first 16 bytes, its high nibbles (VSHR) with
 * the next; per chunk 2 loads of weights, 4 of patches, 4 nibble operations, 8 VMLADAVA, a load between
 * multiplies where the order allows, in a low-overhead loop. Assembly, as the int8 path. */
R8_INLINE void r8_mve_chunks_int4(const int8_t** w, const int8_t** x, const int8_t** y, int32_t chunks, int32_t* s) {
  int32_t a0 = s[0], a1 = s[1], b0 = s[2], b1 = s[3];
  const int8_t *pw = *w, *px = *x, *py = *y;
  if (chunks > 0) {
    __asm__ volatile(
        "vmov.i8 q3, #0xf\n\t"
        "dls lr, %[n]\n"
        "1:\n\t"
        "vld20.32 {q0, q1}, [%[w]]\n\tvld21.32 {q0, q1}, [%[w]]!\n\t"
        "vldrb.u8 q4, [%[x]], #16\n\tvand q2, q0, q3\n\tvmladava.s8 %[a0], q2, q4\n\t"
        "vldrb.u8 q5, [%[y]], #16\n\tvmladava.s8 %[b0], q2, q5\n\tvand q2, q1, q3\n\tvmladava.s8 %[a1], q2, q4\n\t"
        "vldrb.u8 q4, [%[x]], #16\n\tvmladava.s8 %[b1], q2, q5\n\tvshr.u8 q0, q0, #4\n\tvmladava.s8 %[a0], q0, q4\n\t"
        "vldrb.u8 q5, [%[y]], #16\n\tvshr.u8 q1, q1, #4\n\tvmladava.s8 %[b0], q0, q5\n\t"
        "vmladava.s8 %[a1], q1, q4\n\tvmladava.s8 %[b1], q1, q5\n\t"
        "le lr, 1b\n\t"
        : [a0] "+Te"(a0), [a1] "+Te"(a1), [b0] "+Te"(b0), [b1] "+Te"(b1), [w] "+r"(pw), [x] "+r"(px), [y] "+r"(py)
        : [n] "r"(chunks)
        : "q0", "q1", "q2", "q3", "q4", "q5", "lr", "memory");
  }
  s[0] = a0, s[1] = a1, s[2] = b0, s[3] = b1;
  *w = pw, *x = px, *y = py;
}

/* The tail of one pair (`tail` units, two a step) with pixels a and b: int8, or int4 (a step's patch is 32 bytes,
 * low nibbles' then high nibbles'). */
R8_INLINE void r8_mve_tail(const int8_t** w, const int8_t* x, const int8_t* y, int32_t tail, int32_t int4, int32_t* s) {
  const mve_pred16_t pa = r8_mve_row_a(), pb = r8_mve_row_b();
  const uint8x16_t low = vdupq_n_u8(int4 ? 0x0F : 0xFF);
  const int32_t step = int4 ? 32 : 16;
  int32_t i;
  for (i = tail; i > 0; i -= 2, x += step, y += step) {
    const int32_t bytes = i > 1 ? 16 : 8;
    const uint8x16_t v = vldrbq_z_u8((const uint8_t*)*w, vctp8q((uint32_t)bytes)); /* A B A B, or A B */
    const int8x16_t l = vreinterpretq_s8_u8(vandq_u8(v, low)), h = vreinterpretq_s8_u8(vshrq_n_u8(v, 4));
    s[0] = vmladavaq_p_s8(s[0], l, vldrbq_s8(x), pa), s[1] = vmladavaq_p_s8(s[1], l, vldrbq_s8(x), pb);
    s[2] = vmladavaq_p_s8(s[2], l, vldrbq_s8(y), pa), s[3] = vmladavaq_p_s8(s[3], l, vldrbq_s8(y), pb);
    if (int4) {
      s[0] = vmladavaq_p_s8(s[0], h, vldrbq_s8(x + 16), pa), s[1] = vmladavaq_p_s8(s[1], h, vldrbq_s8(x + 16), pb);
      s[2] = vmladavaq_p_s8(s[2], h, vldrbq_s8(y + 16), pa), s[3] = vmladavaq_p_s8(s[3], h, vldrbq_s8(y + 16), pb);
    }
    *w += bytes;
  }
}

void r8_mve_dots_any(const r8_mve_job* job, const r8_mve_shape* s, int32_t int4) {
  const int8_t* w = job->weights;
  const int32_t eight_a = int4 ? 8 * job->sum_a : 0, eight_b = int4 ? 8 * job->sum_b : 0;
  int32_t k;
  for (k = 0; k < job->pairs; ++k) {
    const int8_t *x = job->a, *y = job->b;
    int32_t sums[4];
    sums[0] = job->bias[2 * k] - eight_a, sums[1] = job->bias[2 * k + 1] - eight_a;
    sums[2] = job->bias[2 * k] - eight_b, sums[3] = job->bias[2 * k + 1] - eight_b;
    if (int4) {
      r8_mve_chunks_int4(&w, &x, &y, s->chunks, sums);
    } else {
      r8_mve_chunks(&w, &x, &y, s->chunks, sums);
    }
    r8_mve_tail(&w, x, y, s->tail, int4, sums);
    job->sums[4 * k] = sums[0], job->sums[4 * k + 1] = sums[2], job->sums[4 * k + 2] = sums[1];
    job->sums[4 * k + 3] = sums[3];
  }
}

#endif
