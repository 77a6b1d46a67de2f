/* resnet8 integer kernels, host only: the x86 variants of r8_conv (src/micro/x86/), chosen at run time from
 * CPUID, never emitted into the generated C (this header is not among the kernels' embedded files). The host
 * program (resnet8/program/host_kernels.h) packs each convolution once and calls r8_conv_x86 in place of
 * r8_conv; each level computes the reference variant's integers. */
#ifndef RESNET8_MICRO_CONV_X86_H
#define RESNET8_MICRO_CONV_X86_H

#include "r8_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A level of instructions, chosen at run time, whose weights are packed once per layer. r8_x86_supported: whether this
 * CPU (and its OS) runs the level; r8_x86_best_level: the fastest it runs (R8_X86_NONE on other hosts).
 * r8_conv_x86_accepts: whether the level computes the layer's parameters exactly (else the reference runs it). `packed`
 * holds r8_conv_x86_packed_words(p, level) words, r8_conv_x86_pack's; `scratch` r8_conv_x86_scratch_bytes. */
enum { R8_X86_NONE = 0, R8_X86_AVX2 = 1, R8_X86_AVX512_VNNI = 2 };
int r8_x86_supported(int level);
int r8_x86_best_level(void);
int r8_conv_x86_accepts(const r8_conv_params* p);
int32_t r8_conv_x86_packed_words(const r8_conv_params* p, int level);
void r8_conv_x86_pack(const r8_conv_params* p, int level, int32_t* packed);
int32_t r8_conv_x86_scratch_bytes(const r8_conv_params* p, int level);
void r8_conv_x86(const r8_conv_params* p, const int32_t* packed, const int8_t* input, int8_t* output, int8_t* scratch);
/* Output rows row_begin .. row_end - 1 only (of the whole input), so that two threads may share one layer, each
 * with its own scratch. */
void r8_conv_x86_rows(const r8_conv_params* p, const int32_t* packed, const int8_t* input, int8_t* output,
                      int8_t* scratch, int32_t row_begin, int32_t row_end);

#ifdef __cplusplus
}
#endif

#endif /* RESNET8_MICRO_CONV_X86_H */
