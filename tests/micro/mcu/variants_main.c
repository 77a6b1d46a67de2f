/* tests/micro/variants_check.c on a Cortex-M4 in QEMU (scripts/mcu.sh): the arm_dsp variant's assembly against
 * the reference. Prints each mismatch and a last line "variants: N mismatches". */
#include <stdio.h>

#include "variants_check.h"

static void print_line(const char* line) { printf("%s\n", line); }

int main(void) {
  /* 200,000 random requantizations, one ADD over all 65,536 input pairs, 300 random layers. */
  const int failures = r8_variants_check(20261205u, 200000, 1, 300, print_line);
  printf("variants: %d mismatches\n", failures);
  return failures != 0;
}
