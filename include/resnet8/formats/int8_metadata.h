#pragma once
// What produced an int8 file, as its extra/resnet8_ptq.json record holds it: one struct, written and read
// side by side (to_json, parse_int8_metadata), so that a key is spelled in one place.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace resnet8 {

struct Int8FileMetadata {
  std::string producer;  // "resnet8-ptq 0.1.0"
  // The layout of the state and the code (int8_file.h, kInt8FileFormat). Files without the field: 1.
  int format = 1;
  std::string libtorch, engine;
  bool reduce_range = false;
  // The declared bit-widths. Files before weight_bits recorded 8-bit weights; files before activation_bits,
  // 7 or 8 by reduce_range.
  int weight_bits = 8, activation_bits = 8;
  // Layers whose weights take another width than weight_bits (format 3): {"stem.conv": 7, "fc": 7}.
  std::map<std::string, int> layer_weight_bits;
  std::string observer;
  std::string weights;               // "per_channel_symmetric_qint8" or "per_tensor_symmetric_qint8"
  std::string weight_range = "max";  // or "mse"
  bool equalized = false;
  std::string rounding = "nearest";  // or "adaround"
  bool bias_corrected = false;
  std::string weight_storage;  // "bit-packed, 7 bits per weight"
  std::vector<std::string> fp32_layers;
  int64_t calib_per_class = 0;  // the calibration sample: training images per class, and its seed
  uint64_t seed = 0;
  // The float kernels calibration and refinement ran on (engine/float_kernels.h); empty in older files.
  std::string float_kernels;

  bool per_channel() const { return weights.rfind("per_channel", 0) == 0; }
  int widest_weight_bits() const;  // weight_bits or the widest of layer_weight_bits
};

void to_json(nlohmann::json& j, const Int8FileMetadata& m);

// The metadata of a record's `text`, tolerant of older files (a missing field, or one of another JSON type,
// keeps the default above: a forged record cannot throw from there). Throws resnet8::Error naming `what`
// when the text is not a JSON object with a boolean reduce_range (not resnet8-ptq's metadata), records
// bit-widths outside 2..8, or a format newer than `newest_format`.
Int8FileMetadata parse_int8_metadata(const std::string& text, const std::string& what, int newest_format);

}  // namespace resnet8
