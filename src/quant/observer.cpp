#include <resnet8/quant/observer.h>

#include <resnet8/support/error.h>

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace resnet8 {

void RangeObserver::observe_minmax(const at::Tensor& x) {
  const auto [lo, hi] = at::aminmax(x);
  const double l = lo.item<double>(), h = hi.item<double>();
  min_ = seen_ ? std::min(min_, l) : l;
  max_ = seen_ ? std::max(max_, h) : h;
  seen_ = true;
}

void RangeObserver::observe_histogram(const at::Tensor& x) {
  if (!seen_ || max_ <= min_) return;
  const at::Tensor flat = x.reshape({-1});
  const at::Tensor zero = flat == 0;
  zeros_ += zero.sum().item<double>();
  const at::Tensor counts = at::histc(flat.masked_select(~zero), kBins, min_, max_).to(at::kDouble);
  const double* c = counts.data_ptr<double>();
  for (int64_t i = 0; i < kBins; ++i) hist_[i] += c[i];
}

std::pair<double, double> RangeObserver::range(ObserverKind kind, int64_t levels) const {
  if (kind == ObserverKind::kMinMax || max_ <= min_) return {min_, max_};
  const double width = (max_ - min_) / kBins;
  auto center = [&](int64_t i) { return min_ + (i + 0.5) * width; };

  if (kind == ObserverKind::kPercentile) {
    double total = zeros_;
    for (double c : hist_) total += c;
    const double tail = total * 1e-4;
    double lo = min_, hi = max_, acc = 0;
    for (int64_t i = 0; i < kBins; ++i) {
      if ((acc += hist_[i]) >= tail) {
        lo = min_ + i * width;
        break;
      }
    }
    acc = 0;
    for (int64_t i = kBins - 1; i >= 0; --i) {
      if ((acc += hist_[i]) >= tail) {
        hi = min_ + (i + 1) * width;
        break;
      }
    }
    return {std::min(lo, 0.0) == 0.0 && min_ >= 0 ? min_ : lo, hi};
  }

  // kMse: shrink [min, max] by a in (0, 1]; expected squared error of quantize-dequantize over the
  // histogram (bin centres), clipping included. Exact zeros cost nothing.
  double best_a = 1.0, best_err = std::numeric_limits<double>::infinity();
  for (int step = 0; step < 200; ++step) {
    const double a = 1.0 - step * 0.0045;  // 1.0 .. 0.1045
    const double lo = std::min(a * min_, 0.0), hi = std::max(a * max_, 0.0);
    const double scale = (hi - lo) / double(levels - 1);
    if (scale <= 0) continue;
    double err = 0;
    for (int64_t i = 0; i < kBins; ++i) {
      if (hist_[i] == 0) continue;
      const double v = center(i);
      const double q = std::clamp(std::round((v - lo) / scale), 0.0, double(levels - 1)) * scale + lo;
      err += hist_[i] * (v - q) * (v - q);
    }
    if (err < best_err) {
      best_err = err;
      best_a = a;
    }
  }
  return {best_a * min_, best_a * max_};
}

}  // namespace resnet8
