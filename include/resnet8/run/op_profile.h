#pragma once
// Where a forward call's time goes: a classifier run `forwards` times at one batch size under LibTorch's
// CPU profiler, its time split by the outermost operator the calling thread ran (conv, relu, add, ...),
// and what is left over: time spent between operators (interpreter, dispatch, tensor set-up); and every
// operator's self time (outside the operators it calls: aten::conv2d's own dispatch apart from the
// convolution kernel it reaches). The profiler's own cost (about 1 us per recorded operator) is inside
// these figures, so small operators look larger than they are; the split is what matters.
#include <resnet8/run/classifier.h>

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace resnet8 {

struct OpTime {
  std::string op;  // operator name, e.g. "aten::mkldnn_convolution"
  double calls_per_forward = 0;
  double us_per_forward = 0;  // inclusive: the operators it calls are inside
};

struct OpProfile {
  int threads = 0;
  int64_t batch_size = 0;
  int64_t forwards = 0;
  double us_per_forward = 0;      // wall time per forward call, profiler on
  std::vector<OpTime> ops;        // outermost operators, slowest first (with what they call: sums to the call)
  std::vector<OpTime> self;       // every operator, its time outside the operators it calls, slowest first
  double outside_ops_us() const;  // us_per_forward minus the operators' time
};

// `images`: uint8 NHWC [N, 32, 32, 3], N >= batch_size. A warm-up of a few calls runs first, unprofiled.
OpProfile profile_ops(const Classifier& classifier, const at::Tensor& images, int64_t batch_size, int64_t forwards,
                      int threads);

std::string to_table(const OpProfile& profile);

}  // namespace resnet8
