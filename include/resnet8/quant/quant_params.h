#pragma once
// The vocabulary every quantization stage shares, free of LibTorch: how activation ranges are chosen
// (the observer) and the affine parameters of a quantized activation.
#include <cstdint>
#include <string>

namespace resnet8 {

enum class ObserverKind { kMinMax, kPercentile, kMse };

ObserverKind parse_observer(const std::string& name);  // throws resnet8::OptionError listing the choices
std::string observer_name(ObserverKind kind);

struct QParams {
  double scale = 1.0;
  int64_t zero_point = 0;
};

// Affine parameters mapping [lo, hi] (widened to contain 0) onto integers [qmin, qmax].
QParams affine_qparams(double lo, double hi, int64_t qmin, int64_t qmax);

// The largest value of a signed symmetric `bits`-bit quantizer: 2^(bits-1) - 1 (127 for 8 bits).
inline int64_t symmetric_qmax(int bits) { return (int64_t{1} << (bits - 1)) - 1; }
// The largest value of an unsigned `bits`-bit quantizer: 2^bits - 1 (255 for 8 bits).
inline int64_t unsigned_qmax(int bits) { return (int64_t{1} << bits) - 1; }

}  // namespace resnet8
