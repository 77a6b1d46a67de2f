#include <resnet8/engine/float_kernels.h>

#include <ATen/Context.h>
#include <ATen/Version.h>

#include <cctype>
#include <cstdlib>

namespace resnet8 {
namespace {

constexpr const char* kAten = "avx2";
constexpr const char* kMkl = "COMPATIBLE,STRICT";

std::string environment(const char* name, const char* unset) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : unset;
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

void pin_float_kernels() {
  setenv("ATEN_CPU_CAPABILITY", kAten, 0);
  setenv("MKL_CBWR", kMkl, 0);
}

bool FloatKernels::pinned() const { return aten == upper(kAten) && mkl == kMkl; }

std::string FloatKernels::describe() const { return "ATen " + aten + ", MKL " + mkl + ", no oneDNN"; }

FloatKernels float_kernels() { return {at::get_cpu_capability(), upper(environment("MKL_CBWR", "AUTO"))}; }

FloatKernelScope::FloatKernelScope()
    : mkldnn_(at::globalContext().userEnabledMkldnn()), nnpack_(at::globalContext().userEnabledNNPACK()) {
  at::globalContext().setUserEnabledMkldnn(false);
  at::globalContext().setUserEnabledNNPACK(false);
}

FloatKernelScope::~FloatKernelScope() {
  at::globalContext().setUserEnabledMkldnn(mkldnn_);
  at::globalContext().setUserEnabledNNPACK(nnpack_);
}

}  // namespace resnet8
