#include <resnet8/engine/engine.h>

#include <resnet8/engine/saturation.h>
#include <resnet8/support/error.h>

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
  const auto has = [&](const char* e) { return std::find(engines.begin(), engines.end(), e) != engines.end(); };
  if (has("x86") && !kernels_saturate_int16_pairs("x86")) return "x86";
  for (const char* e : {"onednn", "x86", "fbgemm", "qnnpack"}) {
    if (has(e)) return e;
  }
  throw Error("this LibTorch build has no quantized engine");
}

std::string current_engine() { return name_of(at::globalContext().qEngine()); }

void set_engine(const std::string& name) { at::globalContext().setQEngine(to_qengine(name)); }

}  // namespace resnet8
