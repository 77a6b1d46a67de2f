#pragma once
// The fp32 ResNet8 on kernels of our own: direct convolutions with fused multiply-adds, 16 output channels a
// vector, the weights packed once (batch norm folded, as FoldedResNet8), one call per image in a reused arena.
// At batch 1 LibTorch's path spends as long in per-operator dispatch and primitive set-up as in arithmetic;
// this one does not. The float sums are ordered differently from LibTorch's, so scores differ from
// FoldedResNet8::forward in their last bits (tests/test_float_direct.cpp bounds it).
//
// Levels, chosen from CPUID like the integer program's x86 kernels: avx512 (AVX-512F), avx2 (AVX2 + FMA) and
// portable (the same C++ built for the baseline instruction set: any host).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace resnet8 {

struct FoldedResNet8;
class SplitWorker;

enum class FloatLevel { kPortable, kAvx2, kAvx512 };

const char* float_level_name(FloatLevel level);  // "portable", "avx2", "avx512"
bool float_level_supported(FloatLevel level);    // whether this CPU runs it (portable: always)
FloatLevel best_float_level();
// "auto" (best_float_level()) or a name above. Throws OptionError naming `option` for an unknown name or one
// this CPU cannot run, naming what it runs.
FloatLevel parse_float_level(const std::string& value, const std::string& option);

class DirectFloatNet {
 public:
  // Packs `net`'s layers for `level`. Throws Error when the CPU cannot run `level`, or the graph has a node
  // this runner does not know.
  DirectFloatNet(const FoldedResNet8& net, FloatLevel level);
  ~DirectFloatNet();
  DirectFloatNet(DirectFloatNet&&) noexcept;
  DirectFloatNet& operator=(DirectFloatNet&&) noexcept;

  FloatLevel level() const;
  int64_t input_floats() const;   // per image: height x width x channels, NHWC
  int64_t output_floats() const;  // per image: the class probabilities

  // One image: `image` NHWC floats 0..255 -> `probabilities`. `arena` is resized as needed (reuse it across
  // calls). With `worker`, each convolution's output rows are split between this thread and the worker.
  void run(const float* image, float* probabilities, std::vector<float>& arena, SplitWorker* worker = nullptr) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace resnet8
