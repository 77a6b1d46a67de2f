#pragma once
// Which integer ranges the int8 network uses, and whether LibTorch's int8 kernels compute them
// exactly on this CPU.
//
// Without VNNI, the x86, fbgemm and onednn engines multiply u8 activations by s8 weights with
// vpmaddubsw, which adds each pair of adjacent products in a saturating int16 before widening. A
// pair can reach 2 * activation_qmax * weight_qmax:
//   8-bit activations (0..255) x 8-bit weights (-127..127): 64,770  -> saturates
//   7-bit activations (0..127) x 8-bit weights:             32,258  -> exact
//   8-bit activations          x 7-bit weights (-63..63):    32,130  -> exact
//   6-bit activations (0..63)  x 8-bit weights:             16,002  -> exact
// With AVX-512 VNNI (vpdpbusd) the products go straight into int32 and every scheme is exact.
// Whether the kernels saturate is not guessed from CPU flags: a probe convolution asks them
// (kernels_saturate_int16_pairs), so FBGEMM_ENABLE_INSTRUCTIONS / ONEDNN_MAX_CPU_ISA caps count too.
#include <resnet8/quant/quant_plan.h>

#include <cstdint>
#include <string>

namespace resnet8 {

struct Int8Scheme {
  int weight_bits = 7;  // symmetric weights in [-(2^(bits-1) - 1), 2^(bits-1) - 1]; 2..8
  // Unsigned activations 0..2^bits - 1, 2..8 bits. 7 is LibTorch's reduce_range (its kernels clamp at 255,
  // so a value above the calibrated range can still reach 255, as in every reduce_range model); at 6 bits
  // and fewer the int8 file clamps every activation to its range, so that they are true N-bit values.
  int activation_bits = 8;

  int64_t weight_qmax() const { return (int64_t{1} << (weight_bits - 1)) - 1; }
  int64_t activation_qmax() const { return (int64_t{1} << activation_bits) - 1; }
  bool reduce_range() const { return activation_bits == 7; }
  // Whether a pair of u8 x s8 products always fits in int16: then the scheme is exact on every x86
  // CPU, with or without VNNI.
  bool fits_int16_pairs() const { return 2 * activation_qmax() * weight_qmax() <= 32767; }
  std::string describe() const;  // "7-bit weights, 8-bit activations"
};

// The scheme a plan's own integers need, never what a file's metadata claims: the weight bits of its largest
// |weight|, and 7-bit activations only where the plan has them and every activation zero point is 0..127
// (a 7-bit plan's are). Whether a file is exact on this CPU's kernels is decided on this.
Int8Scheme integer_scheme(const QuantPlan& plan);

// The probe: a 3x3 convolution of 16 channels of 255 with weights of 127 on `engine`. True when its
// result shows pairs of products clamped to int16 (CPUs without VNNI, or kernels capped below it).
// The engine current before the call is restored. Cached per engine for the process.
bool kernels_saturate_int16_pairs(const std::string& engine);

// The probe as TorchScript statements (indented 4 spaces) that leave the bool `saturates`, shared by
// the C++ check above and by quantized files whose scheme does not fit int16 pairs: their
// __setstate__ refuses to load where the probe saturates. Needs the ops/torch resolver of quantize.cpp.
const std::string& saturation_probe_body();

// The engine to run `scheme` on in this process: the default engine (engine.h: the fastest exact one,
// measured per CPU) where it computes the scheme exactly, else the first available engine that does
// (qnnpack adds in int32 on every CPU). Throws resnet8::Error, as check_exact() explains, when none does.
// `what` names the thing being loaded.
std::string engine_for(const Int8Scheme& scheme, const std::string& what);

// Throws resnet8::Error explaining the saturation when `scheme` is not exact on `engine` here.
// `what` names the thing being checked (a file, or the flags).
void check_exact(const Int8Scheme& scheme, const std::string& engine, const std::string& what);

}  // namespace resnet8
