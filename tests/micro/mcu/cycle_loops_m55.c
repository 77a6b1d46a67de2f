/* Loops whose cycle counts follow from the coarse Cortex-M55 rule of m4_cycles.c (model=m55), to check that the
 * plugin recognises Helium instructions by their encodings and weights them as docs/MICRO.md states: 2 cycles a
 * vector instruction, 1 when it directly follows one of the other kind (memory / arithmetic), a byte gather 16;
 * scalar instructions by the Cortex-M4 rule (a taken branch 1 + 2); LE 1 (no refill). Each loop runs 100 times.
 *   EXPECT vloop_mixed   902  1 movs + 100 x (vldrb 2, vmladava 1, vldrb 1, vmladava 1, subs 1) + 99 x 3 + 1 + 3
 *   EXPECT vloop_same   1202  1 + 100 x (4 x vmladava 2, subs 1) + 99 x 3 + 1 + 3
 *   EXPECT vloop_gather 2004  vmov.i32 2 + 1 + 100 x (byte gather 16, subs 1) + 99 x 3 + 1 + 3
 *   EXPECT vloop_lob     208  push{lr} 2 + 1 movs + 1 wls + 100 x (adds 1, le 1) + pop{pc} 2 + 2
 * Built for -mcpu=cortex-m55 -mfloat-abi=softfp; prints nothing (the plugin's report has the counts). */
#include "mcu_support.h"

#define LOOP(name, body)                                                                        \
  __attribute__((naked, noinline)) static void name(uint32_t* buffer __attribute__((unused))) { \
    __asm__ volatile(body);                                                                     \
  }

LOOP(vloop_mixed,
     "movs r1, #100\n1: vldrb.u8 q0, [r0]\nvmladava.s8 r2, q0, q0\nvldrb.u8 q1, [r0]\nvmladava.s8 r2, q1, q1\n"
     "subs r1, r1, #1\nbne 1b\nbx lr\n")
LOOP(vloop_same,
     "movs r1, #100\n1: vmladava.s8 r2, q0, q0\nvmladava.s8 r2, q1, q1\nvmladava.s8 r2, q0, q1\n"
     "vmladava.s8 r2, q1, q0\nsubs r1, r1, #1\nbne 1b\nbx lr\n")
LOOP(vloop_gather, "vmov.i32 q1, #0\nmovs r1, #100\n1: vldrb.u8 q0, [r0, q1]\nsubs r1, r1, #1\nbne 1b\nbx lr\n")
LOOP(vloop_lob, "push {lr}\nmovs r1, #100\nwls lr, r1, 2f\n1: adds r2, r2, #1\nle lr, 1b\n2: pop {pc}\n")

int main(int argc, char** argv) {
  static uint32_t buffer[8];
  (void)argc, (void)argv;
  mcu_cycles_begin();
  vloop_mixed(buffer);
  vloop_same(buffer);
  vloop_gather(buffer);
  vloop_lob(buffer);
  mcu_cycles_end();
  return 0;
}
