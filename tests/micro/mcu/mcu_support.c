/* Instruction counts and stack use of resnet8_classify on QEMU's Cortex-M4 (mcu_support.h).
 *
 * QEMU with -icount shift=0 advances its virtual clock by exactly 1 ns per instruction executed, and
 * SysTick counts that clock's time (at the board's 25 MHz). A loop of known length gives instructions
 * per tick; an inference's ticks times that is the instructions it executed. An emulator executes
 * instructions, it models no cycles: these are instruction counts, not a board's cycle counts. */
#include "mcu_support.h"

#include <stdio.h>

#include "resnet8_model.h"

#define SYST_CSR (*(volatile uint32_t*)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t*)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t*)0xE000E018u)
#define PAINT 0xC5A5C5A5u
#define MAX_IMAGES 1000

extern uint32_t __stack_bottom[];
static volatile uint32_t wraps;
static uint64_t counts[MAX_IMAGES];
static int images;
static uint32_t max_stack;
static double per_tick = 1.0;

void SysTick_Handler(void) { wraps = wraps + 1; }

static uint64_t ticks(void) {
  uint32_t w, v;
  do {
    w = wraps;
    v = SYST_CVR;
  } while (w != wraps);
  return (uint64_t)w * 0x1000000u + (0xFFFFFFu - v);
}

/* 2 x n + 2 instructions: a subtract and a branch per turn. */
static void spin(uint32_t n) { __asm__ volatile("1: subs %0, %0, #1\n bne 1b\n" : "+r"(n) : : "cc"); }

void mcu_start(void) {
  uint64_t t0, t1;
  const uint32_t n = 5000000;
  SYST_RVR = 0xFFFFFFu;
  SYST_CVR = 0;
  SYST_CSR = 7; /* enabled, processor clock, interrupt on wrap */
  spin(1000);   /* past the first reload: until then the counter reads 0 */
  t0 = ticks();
  spin(n);
  t1 = ticks();
  per_tick = (2.0 * n + 2.0) / (double)(t1 - t0);
}

static uint32_t stack_pointer(void) {
  uint32_t sp;
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  return sp;
}

int mcu_classify(const uint8_t image[32 * 32 * 3], int8_t scores[10]) {
  uint32_t* p;
  const uint32_t sp = stack_pointer();
  uint64_t t0, t1;
  int label;
  for (p = __stack_bottom; (uint32_t)p < sp - 64; ++p) *p = PAINT; /* below this frame */
  t0 = ticks();
  mcu_cycles_begin();
  label = resnet8_classify(image, scores);
  mcu_cycles_end();
  t1 = ticks();
  for (p = __stack_bottom; *p == PAINT; ++p) {}
  if (sp - (uint32_t)p > max_stack) max_stack = sp - (uint32_t)p;
  if (images < MAX_IMAGES) counts[images++] = t1 - t0;
  return label;
}

void mcu_report(void) {
  uint64_t lo = (uint64_t)-1, hi = 0, sum = 0;
  int i;
  for (i = 0; i < images; ++i) {
    lo = counts[i] < lo ? counts[i] : lo;
    hi = counts[i] > hi ? counts[i] : hi;
    sum += counts[i];
  }
  printf(
      "mcu: images %d instructions_per_tick %.4f instructions_min %lu instructions_mean %lu instructions_max %lu "
      "stack_bytes %lu\n",
      images, per_tick, (unsigned long)(lo * per_tick), (unsigned long)(sum * per_tick / images),
      (unsigned long)(hi * per_tick), (unsigned long)max_stack);
}
