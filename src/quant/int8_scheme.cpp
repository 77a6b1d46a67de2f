#include <resnet8/quant/int8_scheme.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

namespace resnet8 {

std::string Int8Scheme::describe() const {
  return fmt::format("{}-bit weights, {}-bit activations", weight_bits, activation_bits);
}

Int8Scheme required_scheme(const QuantPlan& plan) {
  int32_t largest = 1;
  for (const auto& l : plan.layers) {
    for (const int32_t w : l.weight) largest = std::max(largest, std::abs(w));
  }
  int bits = 2;
  while (((int32_t{1} << (bits - 1)) - 1) < largest) ++bits;
  // The plan's activation bits where every zero point fits them (a plan of that width has them so), else 8.
  const int64_t qmax = (int64_t{1} << plan.activation_bits) - 1;
  const bool fits = std::all_of(plan.activations.begin(), plan.activations.end(),
                                [&](const ActivationPlan& a) { return a.kept_float || a.qparams.zero_point <= qmax; });
  return Int8Scheme{bits, plan.activation_bits < 8 && fits ? plan.activation_bits : 8};
}

}  // namespace resnet8
