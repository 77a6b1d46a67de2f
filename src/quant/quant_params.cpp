#include <resnet8/quant/quant_params.h>

#include <resnet8/support/error.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace resnet8 {

ObserverKind parse_observer(const std::string& name) {
  if (name == "minmax") return ObserverKind::kMinMax;
  if (name == "percentile") return ObserverKind::kPercentile;
  if (name == "mse") return ObserverKind::kMse;
  throw OptionError("observer", fmt::format("unknown observer '{}'; expected minmax, percentile or mse", name));
}

std::string observer_name(ObserverKind kind) {
  switch (kind) {
    case ObserverKind::kMinMax: return "minmax";
    case ObserverKind::kPercentile: return "percentile";
    case ObserverKind::kMse: return "mse";
  }
  return "?";
}

QParams affine_qparams(double lo, double hi, int64_t qmin, int64_t qmax) {
  lo = std::min(lo, 0.0);
  hi = std::max(hi, 0.0);
  QParams q;
  q.scale = std::max((hi - lo) / double(qmax - qmin), 1e-8);
  q.zero_point = std::clamp<int64_t>(qmin - std::llround(lo / q.scale), qmin, qmax);
  return q;
}

}  // namespace resnet8
