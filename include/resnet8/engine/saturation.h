#pragma once
// Whether LibTorch's int8 kernels compute a scheme (quant/int8_scheme.h) exactly on this CPU, and the
// engine that does.
//
// Without VNNI, the x86, fbgemm and onednn engines multiply u8 activations by s8 weights with vpmaddubsw,
// which adds each pair of adjacent products in a saturating int16 before widening; a scheme whose pairs
// do not fit int16 is then silently wrong. With AVX-512 VNNI (vpdpbusd) the products go straight into
// int32 and every scheme is exact. Whether the kernels saturate is not guessed from CPU flags: a probe
// convolution asks them, so FBGEMM_ENABLE_INSTRUCTIONS / ONEDNN_MAX_CPU_ISA caps count too.
#include <resnet8/quant/int8_scheme.h>

#include <string>

namespace resnet8 {

// The probe: a 3x3 convolution of 16 channels of 255 with weights of 127 on `engine`. True when its
// result shows pairs of products clamped to int16 (CPUs without VNNI, or kernels capped below it).
// The engine current before the call is restored. Cached per engine for the process.
bool kernels_saturate_int16_pairs(const std::string& engine);

// The probe as TorchScript statements (indented 4 spaces) that leave the bool `saturates`, shared by
// the C++ check above and by quantized files whose scheme does not fit int16 pairs: their
// __setstate__ refuses to load where the probe saturates. Needs the resolver of script_resolver.h.
const std::string& saturation_probe_body();

// The engine to run `scheme` on in this process: the default engine (engine.h) where it computes the scheme
// exactly, else the first available engine that does (qnnpack adds in int32 on every CPU). Throws
// resnet8::Error, as check_exact() explains, when none does. `what` names the thing being loaded.
std::string engine_for(const Int8Scheme& scheme, const std::string& what);

// Throws resnet8::Error explaining the saturation when `scheme` is not exact on `engine` here.
// `what` names the thing being checked (a file, or the flags).
void check_exact(const Int8Scheme& scheme, const std::string& engine, const std::string& what);

}  // namespace resnet8
