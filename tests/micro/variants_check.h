/* Every faster variant of the C kernels against the reference (variants_check.c), for the host's tests and for
 * a microcontroller in QEMU. */
#ifndef RESNET8_TESTS_VARIANTS_CHECK_H
#define RESNET8_TESTS_VARIANTS_CHECK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Called with one line per mismatch (the first few only). */
typedef void (*r8_check_report)(const char* line);

/* Runs the checks from `seed`; returns the number of mismatches (0: every variant agrees with the reference). */
int r8_variants_check(uint32_t seed, int32_t requant_cases, int32_t add_sets, int32_t conv_cases,
                      r8_check_report report);

#ifdef __cplusplus
}
#endif

#endif
