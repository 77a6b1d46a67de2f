/* Minimal start-up for QEMU's mps2-an386 (Cortex-M4): the vector table (initial stack pointer, reset
 * handler, SysTick handler), .data copied from flash and .bss cleared, semihosting opened, main called,
 * its status reported through semihosting's exit; the FPU and Helium enabled first where the build uses them.
 * Used by scripts/mcu.sh only. */
#include <stdint.h>
#include <stdlib.h>

extern uint32_t __data_load[], __data_start[], __data_end[], __bss_start__[], __bss_end__[], __stack_top[];
extern int main(int argc, char** argv);
extern void initialise_monitor_handles(void);
void Reset_Handler(void);
void SysTick_Handler(void);

static void Default_Handler(void) {
  for (;;) {}
}

/* mcu_support.c counts SysTick's wraps; a program without it (cycle_loops.c) gets this one. */
__attribute__((weak)) void SysTick_Handler(void) {}

__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))__stack_top,
    Reset_Handler,
    Default_Handler,
    Default_Handler,
    Default_Handler,
    Default_Handler,
    Default_Handler,
    0,
    0,
    0,
    0,
    Default_Handler,
    Default_Handler,
    0,
    Default_Handler,
    SysTick_Handler,
};

/* newlib's exit() runs __libc_fini_array, which calls _fini: nothing to do here. */
void _init(void);
void _fini(void);
void _init(void) {}
void _fini(void) {}

void Reset_Handler(void) {
  uint32_t* from = __data_load;
  uint32_t* to;
#if defined(__ARM_FP) || defined(__ARM_FEATURE_MVE)
  /* The floating-point unit, and Helium with it (coprocessors 10 and 11, full access in CPACR): a build with
   * -mfloat-abi=softfp or hard uses their registers. */
  *(volatile uint32_t*)0xE000ED88u |= 0xFu << 20;
  __asm__ volatile("dsb\n isb" ::: "memory");
#endif
  for (to = __data_start; to < __data_end;) *to++ = *from++;
  for (to = __bss_start__; to < __bss_end__;) *to++ = 0;
  initialise_monitor_handles();
  exit(main(0, 0));
}
