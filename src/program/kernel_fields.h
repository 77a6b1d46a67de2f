#pragma once
// The C kernels' parameter structs written as C, field by field from the lists that declare them
// (R8_*_FIELDS in r8_kernels.h), so that a field added to a struct is written too: none can be left out.
#include <resnet8/micro/r8_kernels.h>
#include <resnet8/program/program.h>

#include <string>

namespace resnet8 {

// A C initializer for each kind of field; arrays and the fused ADD are emitted before the struct, named
// `<struct name>_<field>`.
class FieldWriter {
 public:
  FieldWriter(std::string name, const ConstArrays& arrays) : name_(std::move(name)), arrays_(arrays) {}
  void field(const char* field, int32_t value);
  void field(const char* field, const r8_shape& value);
  void field(const char* field, const int8_t* values);
  void field(const char* field, const int32_t* values);
  void field(const char* field, const r8_add_params* add);
  // The arrays, then `static const TYPE NAME = {.field = value, ...};`.
  std::string text(const char* type) const;

 private:
  void value(const char* field, const std::string& text);

  std::string name_;
  const ConstArrays& arrays_;
  std::string before_, fields_;
};

#define R8_WRITE_FIELD(kind, name) writer.field(#name, p.name);

inline void write_fields(FieldWriter& writer, const r8_add_params& p) { R8_ADD_FIELDS(R8_WRITE_FIELD) }
inline void write_fields(FieldWriter& writer, const r8_conv_params& p) { R8_CONV_FIELDS(R8_WRITE_FIELD) }
inline void write_fields(FieldWriter& writer, const r8_avgpool_params& p) { R8_AVGPOOL_FIELDS(R8_WRITE_FIELD) }
inline void write_fields(FieldWriter& writer, const r8_mean_params& p) { R8_MEAN_FIELDS(R8_WRITE_FIELD) }
inline void write_fields(FieldWriter& writer, const r8_fully_connected_params& p) {
  R8_FULLY_CONNECTED_FIELDS(R8_WRITE_FIELD)
}
inline void write_fields(FieldWriter& writer, const r8_softmax_params& p) { R8_SOFTMAX_FIELDS(R8_WRITE_FIELD) }

#undef R8_WRITE_FIELD

// Each struct's C name.
template <class P>
inline constexpr const char* kParamsType = nullptr;
template <>
inline constexpr const char* kParamsType<r8_add_params> = "r8_add_params";
template <>
inline constexpr const char* kParamsType<r8_conv_params> = "r8_conv_params";
template <>
inline constexpr const char* kParamsType<r8_avgpool_params> = "r8_avgpool_params";
template <>
inline constexpr const char* kParamsType<r8_mean_params> = "r8_mean_params";
template <>
inline constexpr const char* kParamsType<r8_fully_connected_params> = "r8_fully_connected_params";
template <>
inline constexpr const char* kParamsType<r8_softmax_params> = "r8_softmax_params";

// `p` as C: its arrays, then the struct named `name`.
template <class P>
std::string emit_params(const std::string& name, const P& p, const ConstArrays& arrays) {
  FieldWriter writer(name, arrays);
  write_fields(writer, p);
  return writer.text(kParamsType<P>);
}

}  // namespace resnet8
