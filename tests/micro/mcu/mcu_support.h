/* What tests/micro/classify.c measures on the Cortex-M4 (scripts/mcu.sh): instructions per inference
 * from SysTick under QEMU's -icount (calibrated against a loop of known length), and the stack one
 * inference uses (stack painting). */
#ifndef RESNET8_MCU_SUPPORT_H
#define RESNET8_MCU_SUPPORT_H

#include <stdint.h>

void mcu_start(void);
/* Empty markers around each inference: the cycle-estimating QEMU plugin (m4_cycles.c) counts what runs between
 * them. Never inlined. */
void mcu_cycles_begin(void);
void mcu_cycles_end(void);
int mcu_classify(const uint8_t image[32 * 32 * 3], int8_t scores[10]);
void mcu_report(void);

#endif
