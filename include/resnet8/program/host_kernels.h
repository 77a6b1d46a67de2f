#pragma once
// Which kernels run the integer program on the host: the portable C kernels (the ones emitted for
// microcontrollers, the oracle) or, for the convolutions, an x86 variant chosen from the CPU (AVX2: VPMADDWD;
// AVX-512 VNNI: VPDPBUSD), each computing the same integers (src/micro/x86/). Only the convolutions change;
// every other operator, and the planned arena, stay the C kernels'.
#include <resnet8/program/program.h>

#include <string>

namespace resnet8 {

enum class HostKernels { kReference, kAvx2, kAvx512Vnni };

// "reference", "avx2", "avx512_vnni".
const char* host_kernels_name(HostKernels kernels);
// Whether this CPU runs them (reference: always).
bool host_kernels_supported(HostKernels kernels);
// The fastest this CPU runs.
HostKernels best_host_kernels();
// "auto" (best_host_kernels()) or a name above. Throws OptionError naming `option` for an unknown name, or
// one this CPU cannot run (naming what it has).
HostKernels parse_host_kernels(const std::string& value, const std::string& option);

// Packs `program`'s convolutions for `kernels` (once; reference: none) and returns what runs them. A layer the
// variant does not compute exactly (r8_conv_x86_accepts) keeps the C kernel. Throws Error when the CPU cannot
// run `kernels`.
HostKernels use_host_kernels(IntegerProgram& program, HostKernels kernels);

}  // namespace resnet8
