/* resnet8 integer kernels: which variant of each operator a build compiles, and the variants' entry points.
 *
 * Every operator has a portable reference variant (src/micro/reference/), the oracle: plain C99 that any
 * compiler builds. Faster variants for a core's instructions sit beside it, one folder each, as TFLM's
 * kernels/ sits beside kernels/cmsis_nn/:
 *   arm_dsp/   Cortex-M cores with the DSP extension (M4, M7, M33, ...: __ARM_FEATURE_DSP): SMLAD
 *   arm_mve/   Cortex-M cores with Helium (M55, M85: __ARM_FEATURE_MVE)
 *   x86/       the host only (resnet8-eval's .tflite path), chosen at run time; never emitted into the C
 * The operator's own file (r8_conv.c, ...) calls the variant chosen here, at compile time, from the
 * compiler's feature macros; R8_NO_DSP / R8_NO_MVE force the portable path. A variant's file compiles to
 * nothing unless it is chosen, or unless R8_ALL_VARIANTS is defined (resnet8's host library, whose tests run
 * every variant the host can compile against the reference on the same inputs).
 *
 * A new variant of an operator: its file in its folder, its R8_<OP>_<VARIANT> choice below, its entry
 * point declared here, the call in the operator's file, and the host test (tests/test_micro_variants.cpp). */
#ifndef RESNET8_MICRO_VARIANTS_H
#define RESNET8_MICRO_VARIANTS_H

#include "r8_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__ARM_FEATURE_DSP) && !defined(R8_NO_DSP)
#define R8_TARGET_ARM_DSP 1
#else
#define R8_TARGET_ARM_DSP 0
#endif
#if defined(__ARM_FEATURE_MVE)
#define R8_HAS_MVE 1
#else
#define R8_HAS_MVE 0
#endif
#if R8_HAS_MVE && !defined(R8_NO_MVE)
#define R8_TARGET_ARM_MVE 1
#else
#define R8_TARGET_ARM_MVE 0
#endif

/* The variant each operator's file calls on this target: 1 for the chosen one. */
#define R8_CONV_ARM_MVE R8_TARGET_ARM_MVE
#define R8_CONV_ARM_DSP (R8_TARGET_ARM_DSP && !R8_CONV_ARM_MVE)
#define R8_CONV_REFERENCE (!R8_CONV_ARM_DSP && !R8_CONV_ARM_MVE)
#define R8_ADD_REFERENCE 1
#define R8_AVGPOOL_ARM_MVE R8_TARGET_ARM_MVE
#define R8_AVGPOOL_REFERENCE (!R8_AVGPOOL_ARM_MVE)
#define R8_MEAN_ARM_MVE R8_TARGET_ARM_MVE
#define R8_MEAN_REFERENCE (!R8_MEAN_ARM_MVE)
#define R8_FULLY_CONNECTED_ARM_MVE R8_TARGET_ARM_MVE
#define R8_FULLY_CONNECTED_REFERENCE (!R8_FULLY_CONNECTED_ARM_MVE)
#define R8_SOFTMAX_REFERENCE 1

/* On x86-64 hosts with GCC, the reference variants' hot loops are also compiled for AVX2 and picked at load
 * time (the host evaluator runs 10,000 images); elsewhere, microcontrollers included, this is empty. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(R8_NO_TARGET_CLONES)
#define R8_HOT __attribute__((target_clones("avx2", "default")))
#else
#define R8_HOT
#endif

/* Whether a variant's file compiles its code: when chosen, or when every variant is asked for. The MVE variant
 * needs the core's instructions (arm_mve.h) even then: R8_COMPILE_MVE. */
#if defined(R8_ALL_VARIANTS)
#define R8_COMPILE(chosen) 1
#define R8_COMPILE_MVE(chosen) R8_HAS_MVE
#else
#define R8_COMPILE(chosen) (chosen)
#define R8_COMPILE_MVE(chosen) (chosen)
#endif

void r8_conv_reference(const r8_conv_params* p, const int8_t* input, int8_t* output, int8_t* scratch);
void r8_conv_arm_dsp(const r8_conv_params* p, const int8_t* input, int8_t* output, int8_t* scratch);
void r8_conv_arm_mve(const r8_conv_params* p, const int8_t* input, int8_t* output, int8_t* scratch);
void r8_add_reference(const r8_add_params* p, const int8_t* input1, const int8_t* input2, int8_t* output);
void r8_avgpool_reference(const r8_avgpool_params* p, const int8_t* input, int8_t* output);
void r8_avgpool_arm_mve(const r8_avgpool_params* p, const int8_t* input, int8_t* output);
void r8_mean_reference(const r8_mean_params* p, const int8_t* input, int8_t* output);
void r8_mean_arm_mve(const r8_mean_params* p, const int8_t* input, int8_t* output);
void r8_fully_connected_reference(const r8_fully_connected_params* p, const int8_t* input, int8_t* output);
void r8_fully_connected_arm_mve(const r8_fully_connected_params* p, const int8_t* input, int8_t* output);
void r8_softmax_reference(const r8_softmax_params* p, const int8_t* input, int8_t* output);

/* The scratch bytes each variant of r8_conv needs (4-byte aligned), and r8_conv_scratch_bytes: the most
 * any variant a microcontroller build may compile needs, which the arena plan reserves. */
int32_t r8_conv_scratch_bytes_reference(const r8_conv_params* p);
int32_t r8_conv_scratch_bytes_arm_dsp(const r8_conv_params* p);
int32_t r8_conv_scratch_bytes_arm_mve(const r8_conv_params* p);
int32_t r8_conv_scratch_bytes(const r8_conv_params* p);

#ifdef __cplusplus
}
#endif

#endif /* RESNET8_MICRO_VARIANTS_H */
