#pragma once
// The same float arithmetic on every x86-64 CPU, for the stages that make a quantized file (calibration,
// CLE, AdaRound, bias correction). LibTorch's CPU kernels choose their code by the CPU: ATen's vectorized
// kernels by instruction set (AVX2 or AVX-512: 8 or 16 partial sums), MKL's GEMM by instruction set and
// vendor, oneDNN's convolutions by instruction set and cache sizes. Each choice sums in another order, so the
// float statistics, and then the quantized file, could differ in their last bits from one machine to another.
//
// Pinned, they run one code path everywhere:
//   - ATen at AVX2 (ATEN_CPU_CAPABILITY=avx2): every supported CPU has it;
//   - MKL in conditional numerical reproducibility mode COMPATIBLE,STRICT (MKL_CBWR): one code path for
//     every x86 vendor (MKL ignores a named branch such as AVX2 on AMD CPUs), and results independent of the
//     thread count;
//   - oneDNN and NNPACK off while a FloatKernelScope lives, so convolutions go through ATen's im2col + MKL.
// The first two are read once per process, when LibTorch first uses them, so pin_float_kernels() must run
// before any LibTorch computation: first thing in main(). A variable the user has set is left as it is.
#include <string>

namespace resnet8 {

// Sets ATEN_CPU_CAPABILITY and MKL_CBWR for this process unless the environment has them.
void pin_float_kernels();

// What the float stages run on, as the file records it: "ATen AVX2, MKL COMPATIBLE,STRICT, no oneDNN".
// pinned() is true when that is the reproducible setting above.
struct FloatKernels {
  std::string aten;  // at::get_cpu_capability(): "AVX2", "AVX512", "DEFAULT"
  std::string mkl;   // MKL_CBWR as MKL reads it, or "AUTO" when unset
  bool pinned() const;
  std::string describe() const;
};
FloatKernels float_kernels();

// While it lives, LibTorch's float convolutions do not use oneDNN or NNPACK (their code depends on the CPU).
// Restores the previous settings when it ends. Not thread-safe: LibTorch's switches are process-wide.
class FloatKernelScope {
 public:
  FloatKernelScope();
  ~FloatKernelScope();
  FloatKernelScope(const FloatKernelScope&) = delete;
  FloatKernelScope& operator=(const FloatKernelScope&) = delete;

 private:
  bool mkldnn_, nnpack_;
};

}  // namespace resnet8
