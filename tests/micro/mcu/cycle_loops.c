/* Loops whose Cortex-M4 cycle counts follow from the Technical Reference Manual, to check the cycle model of
 * m4_cycles.c (scripts/mcu.sh runs them under the plugin and compares every count). Each loop runs 100 times;
 * a taken branch costs 1 + P with P = 2, as the model states. The expected counts, per call, from the manual's
 * timings (first iteration to return):
 *   EXPECT loop_alu    502   1 movs + 100 x (adds, subs) + 99 x bne taken (3) + bne not taken (1) + bx lr (3)
 *   EXPECT loop_loads  902   1 + 100 x (ldr 2, ldr 1, ldr 1, ldr 1: pipelined; subs 1) + 99 x 3 + 1 + 3
 *   EXPECT loop_ldm   1208   push{2} 3 + 1 + 100 x (ldm{4} 5, ldrd 3, subs 1) + 99 x 3 + 1 + pop{2} 3 + bx 3
 *   EXPECT loop_mac    702   1 + 100 x (smlad, smlad, mul, subs) + 99 x 3 + 1 + 3
 *   EXPECT loop_split  902   1 + 100 x (str 2, adds 1, ldr 2: not pipelined, subs 1) + 99 x 3 + 1 + 3
 *   EXPECT loop_cbz    502   1 + 100 x (cbz not taken 1, subs 1) + 99 x 3 + 1 + 3
 * Built for -mcpu=cortex-m4 -mthumb; prints nothing (the plugin's report has the counts). */
#include "mcu_support.h"

#define LOOP(name, body)                                                                        \
  __attribute__((naked, noinline)) static void name(uint32_t* buffer __attribute__((unused))) { \
    __asm__ volatile(body);                                                                     \
  }

LOOP(loop_alu, "movs r1, #100\n1: adds r2, r2, r1\nsubs r1, r1, #1\nbne 1b\nbx lr\n")
LOOP(loop_loads,
     "movs r1, #100\n1: ldr r2, [r0]\nldr r3, [r0, #4]\nldr r12, [r0, #8]\nldr r2, [r0, #12]\n"
     "subs r1, r1, #1\nbne 1b\nbx lr\n")
LOOP(loop_ldm,
     "push {r4, r5}\nmovs r1, #100\n1: ldm r0, {r2, r3, r4, r5}\nldrd r2, r3, [r0]\nsubs r1, r1, #1\nbne 1b\n"
     "pop {r4, r5}\nbx lr\n")
LOOP(loop_mac,
     "movs r1, #100\n1: smlad r2, r3, r12, r2\nsmlad r2, r3, r12, r2\nmul r3, r3, r12\nsubs r1, r1, #1\nbne 1b\n"
     "bx lr\n")
LOOP(loop_split, "movs r1, #100\n1: str r2, [r0]\nadds r3, r3, #1\nldr r2, [r0]\nsubs r1, r1, #1\nbne 1b\nbx lr\n")
LOOP(loop_cbz, "movs r1, #100\n1: cbz r0, 2f\nsubs r1, r1, #1\nbne 1b\n2: bx lr\n")

int main(int argc, char** argv) {
  static uint32_t buffer[8];
  (void)argc, (void)argv;
  mcu_cycles_begin();
  loop_alu(buffer);
  loop_loads(buffer);
  loop_ldm(buffer);
  loop_mac(buffer);
  loop_split(buffer);
  loop_cbz(buffer);
  mcu_cycles_end();
  return 0;
}
