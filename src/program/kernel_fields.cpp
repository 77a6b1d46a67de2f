// The C kernels' parameter structs as C (kernel_fields.h).
#include <resnet8/support/error.h>

#include "program/kernel_fields.h"

#include <fmt/format.h>

#include <limits>

namespace resnet8 {
namespace {

// An int32 as a C constant expression (-2147483648 is not one: 2147483648 does not fit an int).
std::string c_int(int64_t v) {
  return v == std::numeric_limits<int32_t>::min() ? std::string("(-2147483647 - 1)") : std::to_string(v);
}

// int8 arrays are 4-byte aligned (R8_ALIGNED, r8_kernels.h): the MVE variant reads weights by words.
template <typename T>
std::string c_array(const char* type, const std::string& name, const std::vector<T>& values) {
  const char* align = sizeof(T) == 1 ? " R8_ALIGNED" : "";
  std::string out = fmt::format("static const {} {}[{}]{} = {{", type, name, values.size(), align);
  for (size_t i = 0; i < values.size(); ++i) out += fmt::format("{}{}", i % 16 ? " " : "\n  ", c_int(values[i]) + ",");
  return out + "\n};\n";
}

}  // namespace

void FieldWriter::value(const char* field, const std::string& text) {
  fields_ += fmt::format("{}.{} = {}", fields_.empty() ? "" : ", ", field, text);
}

void FieldWriter::field(const char* field, int32_t v) { value(field, c_int(v)); }

void FieldWriter::field(const char* field, const r8_shape& s) {
  value(field, fmt::format("{{{}, {}, {}}}", s.height, s.width, s.channels));
}

void FieldWriter::field(const char* field, const int8_t* values) {
  const std::vector<int8_t>* array = arrays_.find(values);
  if (!array) throw Error(fmt::format("c_source: {}.{} points to no array of the program", name_, field));
  const std::string array_name = name_ + "_" + field;
  before_ += c_array("int8_t", array_name, *array);
  value(field, array_name);
}

void FieldWriter::field(const char* field, const int32_t* values) {
  const std::vector<int32_t>* array = arrays_.find(values);
  if (!array) throw Error(fmt::format("c_source: {}.{} points to no array of the program", name_, field));
  const std::string array_name = name_ + "_" + field;
  before_ += c_array("int32_t", array_name, *array);
  value(field, array_name);
}

void FieldWriter::field(const char* field, const r8_add_params* add) {
  if (!add) {
    value(field, "0");
    return;
  }
  const std::string add_name = name_ + "_" + field;
  before_ += emit_params(add_name, *add, arrays_);
  value(field, "&" + add_name);
}

std::string FieldWriter::text(const char* type) const {
  return before_ + fmt::format("static const {} {} = {{{}}};\n", type, name_, fields_);
}

}  // namespace resnet8
