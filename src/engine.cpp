#include <resnet8/engine.h>

#include <resnet8/error.h>

#include <ATen/Context.h>
#include <c10/core/QEngine.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>

namespace resnet8 {
namespace {

std::string name_of(at::QEngine e) {
  std::string s = c10::toString(e);  // "FBGEMM", "X86", ...
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

at::QEngine to_qengine(const std::string& name) {
  for (const at::QEngine e : at::globalContext().supportedQEngines()) {
    if (e != at::QEngine::NoQEngine && name_of(e) == name) return e;
  }
  throw Error(fmt::format("quantized engine '{}' is not available in this LibTorch build; available: {}", name,
                          fmt::join(available_engines(), ", ")));
}

}  // namespace

std::vector<std::string> available_engines() {
  std::vector<std::string> out;
  for (const at::QEngine e : at::globalContext().supportedQEngines()) {
    if (e != at::QEngine::NoQEngine) out.push_back(name_of(e));
  }
  return out;
}

std::string default_engine() {
  const auto engines = available_engines();
  for (const char* preferred : {"x86", "fbgemm", "onednn", "qnnpack"}) {
    if (std::find(engines.begin(), engines.end(), preferred) != engines.end()) return preferred;
  }
  throw Error("this LibTorch build has no quantized engine");
}

std::string current_engine() { return name_of(at::globalContext().qEngine()); }

void set_engine(const std::string& name) { at::globalContext().setQEngine(to_qengine(name)); }

bool cpu_has_vnni() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512vnni") || __builtin_cpu_supports("avxvnni");
#else
  return false;
#endif
}

bool default_reduce_range(const std::string& engine) {
  return (engine == "x86" || engine == "fbgemm") && !cpu_has_vnni();
}

}  // namespace resnet8
