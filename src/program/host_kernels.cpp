// The host's choice of kernels for the integer program (host_kernels.h).
#include <resnet8/micro/r8_conv_x86.h>
#include <resnet8/program/host_kernels.h>
#include <resnet8/support/error.h>

#include <fmt/format.h>

#include <algorithm>

namespace resnet8 {
namespace {

int level_of(HostKernels k) {
  switch (k) {
    case HostKernels::kAvx2: return R8_X86_AVX2;
    case HostKernels::kAvx512Vnni: return R8_X86_AVX512_VNNI;
    case HostKernels::kReference: break;
  }
  return R8_X86_NONE;
}

constexpr HostKernels kAll[] = {HostKernels::kReference, HostKernels::kAvx2, HostKernels::kAvx512Vnni};

std::string supported_names() {
  std::string names;
  for (HostKernels k : kAll) {
    if (host_kernels_supported(k)) names += std::string(names.empty() ? "" : ", ") + host_kernels_name(k);
  }
  return names;
}

}  // namespace

const char* host_kernels_name(HostKernels kernels) {
  switch (kernels) {
    case HostKernels::kAvx2: return "avx2";
    case HostKernels::kAvx512Vnni: return "avx512_vnni";
    case HostKernels::kReference: break;
  }
  return "reference";
}

bool host_kernels_supported(HostKernels kernels) {
  return kernels == HostKernels::kReference || r8_x86_supported(level_of(kernels)) != 0;
}

HostKernels best_host_kernels() {
  switch (r8_x86_best_level()) {
    case R8_X86_AVX512_VNNI: return HostKernels::kAvx512Vnni;
    case R8_X86_AVX2: return HostKernels::kAvx2;
    default: return HostKernels::kReference;
  }
}

HostKernels parse_host_kernels(const std::string& value, const std::string& option) {
  if (value == "auto") return best_host_kernels();
  for (HostKernels k : kAll) {
    if (value != host_kernels_name(k)) continue;
    if (!host_kernels_supported(k)) {
      throw OptionError(option, fmt::format("{}: this CPU cannot run them; it runs {}", value, supported_names()));
    }
    return k;
  }
  throw OptionError(option, fmt::format("{}: expected auto, reference, avx2 or avx512_vnni", value));
}

HostKernels use_host_kernels(IntegerProgram& program, HostKernels kernels) {
  if (!host_kernels_supported(kernels)) {
    throw Error(fmt::format("the {} kernels do not run on this CPU", host_kernels_name(kernels)));
  }
  const int level = level_of(kernels);
  program.x86_packed.clear();
  program.host_scratch_bytes = 0;
  program.x86_level = level;
  const int64_t scratch_at = (program.plan.arena_bytes + 63) / 64 * 64;
  for (KernelCall& call : program.calls) {
    call.x86 = nullptr;
    if (level == R8_X86_NONE || call.op != TfliteOp::kConv2d) continue;
    const auto& p = std::get<r8_conv_params>(call.params);
    if (!r8_conv_x86_accepts(&p)) continue;
    auto& packed = program.x86_packed.emplace_back(static_cast<size_t>(r8_conv_x86_packed_words(&p, level)));
    r8_conv_x86_pack(&p, level, packed.data());
    call.x86 = packed.data();
    call.x86_scratch_at = scratch_at;
    program.host_scratch_bytes = std::max(program.host_scratch_bytes,
                                          scratch_at - program.plan.arena_bytes + r8_conv_x86_scratch_bytes(&p, level));
  }
  return kernels;
}

}  // namespace resnet8
