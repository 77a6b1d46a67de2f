// The int16 saturation probe and the choice of an exact engine (saturation.h).
#include <resnet8/engine/engine.h>
#include <resnet8/engine/saturation.h>
#include <resnet8/support/error.h>

#include "engine/script_resolver.h"

#include <fmt/format.h>
#include <torch/csrc/jit/api/compilation_unit.h>
#include <torch/script.h>

#include <map>
#include <mutex>

namespace resnet8 {

const std::string& saturation_probe_body() {
  // 16 x 3 x 3 = 144 products of 255 x 127: exactly 4,663,440, i.e. 142 at output scale 32768.
  // Pairs clamped to 32767 give 72 x 32767 = 2,359,224, i.e. 72.
  static const std::string source =
      "    probe_w = torch._make_per_tensor_quantized_tensor(torch.full([16, 16, 3, 3], 127, dtype=torch.int8), 1.0, "
      "0)\n"
      "    probe_packed = ops.quantized.conv2d_prepack(probe_w, None, [1, 1], [0, 0], [1, 1], 1)\n"
      "    probe_x = torch.quantize_per_tensor(torch.full([1, 16, 3, 3], 255.0), 1.0, 0, torch.quint8)\n"
      "    probe_y = ops.quantized.conv2d(probe_x, probe_packed, 32768.0, 0)\n"
      "    saturates = int(probe_y.int_repr()[0, 0, 0, 0]) != 142\n";
  return source;
}

bool kernels_saturate_int16_pairs(const std::string& engine) {
  static std::mutex mutex;
  static std::map<std::string, bool> cache;
  const std::lock_guard<std::mutex> lock(mutex);
  if (const auto it = cache.find(engine); it != cache.end()) return it->second;
  const std::string previous = current_engine();
  set_engine(engine);
  bool saturates = false;
  try {
    torch::jit::CompilationUnit unit;
    unit.define(std::nullopt,
                "def int8_pairs_saturate() -> bool:\n" + saturation_probe_body() + "    return saturates\n",
                detail::quantized_ops_resolver(), nullptr);
    c10::InferenceMode guard;
    saturates = unit.get_function("int8_pairs_saturate")({}).toBool();
  } catch (...) {
    set_engine(previous);
    throw;
  }
  set_engine(previous);
  return cache[engine] = saturates;
}

void check_exact(const Int8Scheme& scheme, const std::string& engine, const std::string& what) {
  if (scheme.fits_int16_pairs() || !kernels_saturate_int16_pairs(engine)) return;
  throw Error(fmt::format(
      "{}: {} would silently saturate on this CPU: its int8 kernels (engine {}) have no VNNI and add pairs of "
      "u8 x s8 products in int16, which {} x {} x 2 = {} overflows (max 32767). Use 7-bit weights (the default) "
      "or 7-bit activations (reduce_range), which are exact on every x86 CPU",
      what, scheme.describe(), engine, scheme.activation_qmax(), scheme.weight_qmax(),
      2 * scheme.activation_qmax() * scheme.weight_qmax()));
}

std::string engine_for(const Int8Scheme& scheme, const std::string& what) {
  const std::string preferred = default_engine();
  if (scheme.fits_int16_pairs() || !kernels_saturate_int16_pairs(preferred)) return preferred;
  for (const auto& engine : available_engines()) {
    if (!kernels_saturate_int16_pairs(engine)) return engine;
  }
  check_exact(scheme, preferred, what);  // throws, with the arithmetic
  return preferred;
}

}  // namespace resnet8
