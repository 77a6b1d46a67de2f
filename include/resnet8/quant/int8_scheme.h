#pragma once
// Which integer ranges an int8 network uses: N-bit symmetric weights and M-bit unsigned activations, and
// whether a pair of their products always fits in int16 (the limit of int8 kernels without VNNI; which
// LibTorch engine computes a scheme exactly on this CPU is engine/saturation.h's question).
//   8-bit activations (0..255) x 8-bit weights (-127..127): 2 x 255 x 127 = 64,770  -> does not fit
//   7-bit activations (0..127) x 8-bit weights:             32,258  -> fits
//   8-bit activations          x 7-bit weights (-63..63):    32,130  -> fits
//   6-bit activations (0..63)  x 8-bit weights:             16,002  -> fits
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
  // Whether a pair of u8 x s8 products always fits in int16: then the scheme is exact on every x86 CPU,
  // with or without VNNI.
  bool fits_int16_pairs() const { return 2 * activation_qmax() * weight_qmax() <= 32767; }
  std::string describe() const;  // "7-bit weights, 8-bit activations"
};

// The scheme a plan's integers require, never what a file's metadata declares (int8_torchscript.h's
// declared_scheme()): the weight bits of its largest |weight|, and 7-bit activations only where the plan
// has them and every activation zero point is 0..127 (a 7-bit plan's are). Whether a file is exact on this
// CPU's kernels is decided on this.
Int8Scheme required_scheme(const QuantPlan& plan);

}  // namespace resnet8
