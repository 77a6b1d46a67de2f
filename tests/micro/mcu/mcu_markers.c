/* The markers the cycle-estimating QEMU plugin (m4_cycles.c) counts between (mcu_support.h): empty functions,
 * never inlined, whose entry addresses scripts/mcu.sh passes to the plugin. */
#include "mcu_support.h"

__attribute__((noinline)) void mcu_cycles_begin(void) { __asm__ volatile(""); }
__attribute__((noinline)) void mcu_cycles_end(void) { __asm__ volatile(""); }
