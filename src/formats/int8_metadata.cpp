// The int8 file's metadata record (int8_metadata.h).
#include <resnet8/formats/int8_metadata.h>
#include <resnet8/support/error.h>

#include <fmt/format.h>

#include <algorithm>
#include <type_traits>

namespace resnet8 {

using nlohmann::json;

void to_json(json& j, const Int8FileMetadata& m) {
  j = {{"producer", m.producer},
       {"format", m.format},
       {"libtorch", m.libtorch},
       {"engine", m.engine},
       {"reduce_range", m.reduce_range},
       {"weight_bits", m.weight_bits},
       {"activation_bits", m.activation_bits},
       {"observer", m.observer},
       {"weights", m.weights},
       {"weight_range", m.weight_range},
       {"equalized", m.equalized},
       {"rounding", m.rounding},
       {"bias_corrected", m.bias_corrected},
       {"weight_storage", m.weight_storage},
       {"fp32_layers", m.fp32_layers},
       {"float_kernels", m.float_kernels},
       {"calibration", {{"split", "train"}, {"per_class", m.calib_per_class}, {"seed", m.seed}}}};
  if (!m.layer_weight_bits.empty()) j["layer_weight_bits"] = m.layer_weight_bits;  // absent: as files before it
}

int Int8FileMetadata::widest_weight_bits() const {
  int bits = weight_bits;
  for (const auto& [layer, b] : layer_weight_bits) bits = std::max(bits, b);
  return bits;
}

namespace {

// Sets `out` from j[key] when that is of out's JSON type.
template <typename T>
void read(const json& j, const char* key, T& out) {
  const auto it = j.find(key);
  if (it == j.end()) return;
  if constexpr (std::is_same_v<T, bool>) {
    if (it->is_boolean()) out = it->template get<bool>();
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (it->is_string()) out = it->template get<std::string>();
  } else if constexpr (std::is_same_v<T, uint64_t>) {
    if (it->is_number_unsigned()) out = it->template get<uint64_t>();
  } else {
    if (it->is_number_integer()) out = it->template get<T>();
  }
}

// A recorded bit-width, which must be 2..8.
void read_bits(const json& j, const char* key, int& bits, const std::string& what) {
  const auto value = j.value(key, json());
  if (!value.is_number_integer()) return;
  const auto recorded = value.get<int64_t>();
  if (recorded < 2 || recorded > 8) throw Error(fmt::format("{}: records {} {}; expected 2..8", what, key, recorded));
  bits = static_cast<int>(recorded);
}

// The recorded widths of layers (format 3), each 2..8. Not an object: none recorded.
void read_layer_bits(const json& j, std::map<std::string, int>& out, const std::string& what) {
  const json widths = j.value("layer_weight_bits", json());
  if (!widths.is_object()) return;
  for (const auto& item : widths.items()) {
    if (!item.value().is_number_integer()) {
      throw Error(
          fmt::format("{}: records layer_weight_bits {} {}; expected 2..8", what, item.key(), item.value().dump()));
    }
    read_bits(widths, item.key().c_str(), out[item.key()], what);
  }
}

}  // namespace

Int8FileMetadata parse_int8_metadata(const std::string& text, const std::string& what, int newest_format) {
  const json j = json::parse(text, nullptr, false);
  if (!j.is_object() || !j.value("reduce_range", json()).is_boolean()) {
    throw Error(fmt::format("{}: its resnet8_ptq.json record is not the metadata resnet8-ptq writes", what));
  }
  Int8FileMetadata m;
  m.reduce_range = j["reduce_range"].get<bool>();
  m.activation_bits = m.reduce_range ? 7 : 8;
  read_bits(j, "weight_bits", m.weight_bits, what);
  read_bits(j, "activation_bits", m.activation_bits, what);
  read_layer_bits(j, m.layer_weight_bits, what);
  const json format = j.value("format", json(1));
  const int64_t f = format.is_number_integer() ? format.get<int64_t>() : -1;
  if (f < 1 || f > newest_format) {
    throw Error(
        fmt::format("{}: an int8 file of format {}; this resnet8 reads formats 1..{} (a newer resnet8-ptq "
                    "wrote it?)",
                    what, format.dump(), newest_format));
  }
  m.format = static_cast<int>(f);
  for (const auto& [key, field] : {std::pair{"producer", &m.producer},
                                   {"libtorch", &m.libtorch},
                                   {"engine", &m.engine},
                                   {"observer", &m.observer},
                                   {"weights", &m.weights},
                                   {"weight_range", &m.weight_range},
                                   {"rounding", &m.rounding},
                                   {"weight_storage", &m.weight_storage},
                                   {"float_kernels", &m.float_kernels}}) {
    read(j, key, *field);
  }
  read(j, "equalized", m.equalized);
  read(j, "bias_corrected", m.bias_corrected);
  for (const auto& l : j.value("fp32_layers", json::array())) {
    if (l.is_string()) m.fp32_layers.push_back(l.get<std::string>());
  }
  const json calibration = j.value("calibration", json::object());
  if (calibration.is_object()) {
    read(calibration, "per_class", m.calib_per_class);
    read(calibration, "seed", m.seed);
  }
  return m;
}

}  // namespace resnet8
